"""Fails loudly if an aiortc or aioice upgrade moves the semi-private names relay/ relies on."""

import fractions
import gc
import inspect
import weakref
from types import SimpleNamespace

import aioice.ice
import aiortc
import aiortc.rtcpeerconnection
import aiortc.rtcrtpreceiver
import av
import pytest
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.rtcicetransport import RTCIceTransport
from aiortc.rtcrtpreceiver import RemoteStreamTrack, StreamStatistics

from relay import aiortc_hooks
from relay.measures import frame_brightness
from tests.relay.clients import eventually, shown


def parameters(function: object) -> list[str]:
    assert callable(function)
    return list(inspect.signature(function).parameters)


def test_aiortc_is_the_pinned_version() -> None:
    assert aiortc.__version__ == aiortc_hooks.AIORTC_VERSION == "1.16.0"


def test_semi_private_names_have_the_expected_signatures() -> None:
    aiortc_hooks.install()
    original = aiortc_hooks._originals
    assert parameters(original["decoder_worker"]) == [
        "loop",
        "input_q",
        "output_q",
        "decode_error",
    ]
    assert parameters(original["get_decoder"]) == ["codec"]
    assert parameters(original["get_host_addresses"]) == ["use_ipv4", "use_ipv6"]
    assert parameters(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    assert parameters(RTCRtpSender._send_keyframe) == ["self"]
    assert parameters(aiortc.rtcpeerconnection.is_codec_compatible) == ["a", "b"]
    # the receiver thread and the sender find these as module globals / attributes
    source = inspect.getsource(aiortc.rtcrtpreceiver)
    assert "target=decoder_worker" in source
    assert "decoder = get_decoder(codec)" in source
    assert "self._track._queue" in source
    assert "self._send_keyframe()" in inspect.getsource(RTCRtpSender._handle_rtcp_packet)
    assert "__encoder" in inspect.getsource(RTCRtpSender.__init__)
    assert "get_host_addresses(" in inspect.getsource(aioice.ice.Connection.gather_candidates)
    assert hasattr(RemoteStreamTrack("video"), "_queue")
    # called through the instance, so per-instance wrappers see every call
    assert "await self._send_rtcp_pli(packet.ssrc)" in source
    # per-SSRC statistics and the RTX SSRCs read by received_streams()
    assert "self.__remote_streams[packet.ssrc] = StreamStatistics(codec.clockRate)" in source
    assert "self.__rtx_ssrc[encoding.rtx.ssrc] = encoding.ssrc" in source
    assert {"packets_received", "_clockrate"} <= set(vars(StreamStatistics(90000)))
    for name in ("packets_lost", "jitter"):
        assert isinstance(inspect.getattr_static(StreamStatistics, name), property)
    # the nominated pairs read by nominated_candidate_types()
    assert "self._connection = gatherer._connection" in inspect.getsource(RTCIceTransport)
    assert "self._nominated: dict[int, CandidatePair] = {}" in inspect.getsource(aioice.ice)
    assert isinstance(inspect.getattr_static(aioice.ice.CandidatePair, "local_candidate"), property)
    assert "self.remote_candidate = remote_candidate" in inspect.getsource(aioice.ice.CandidatePair)


def test_install_is_idempotent() -> None:
    aiortc_hooks.install()
    installed = aiortc.rtcrtpreceiver.decoder_worker
    aiortc_hooks.install()
    assert aiortc.rtcrtpreceiver.decoder_worker is installed is aiortc_hooks._decoder_worker
    assert aiortc.rtcrtpreceiver.get_decoder is aiortc_hooks._get_decoder  # type: ignore[attr-defined]
    assert aioice.ice.get_host_addresses is aiortc_hooks._get_host_addresses
    assert aiortc_hooks._originals["decoder_worker"] is not aiortc_hooks._decoder_worker


def test_gather_on_scopes_the_host_addresses() -> None:
    aiortc_hooks.install()
    with aiortc_hooks.gather_on(("127.0.0.1", "::1")):
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1", "::1"]
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)  # aioice's default


@pytest.mark.asyncio
async def test_sender_encoder_is_readable() -> None:
    pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    try:
        sender = pc.addTransceiver("video").sender
        assert aiortc_hooks.sender_encoder(sender) is None
        calls: list[None] = []
        aiortc_hooks.set_keyframe_request_handler(sender, lambda: calls.append(None))
        sender._send_keyframe()
        assert calls == [None]
    finally:
        await pc.close()


@pytest.mark.asyncio
async def test_readers_and_observers_work_on_a_fresh_connection() -> None:
    pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    try:
        transceiver = pc.addTransceiver("video")
        assert aiortc_hooks.received_streams(transceiver.receiver) == []
        transport = transceiver.receiver.transport.transport
        assert aiortc_hooks.nominated_candidate_types(transport) == []

        received: list[str] = []
        sender = transceiver.sender
        aiortc_hooks.set_keyframe_request_handler(sender, lambda: received.append("handler"))
        aiortc_hooks.observe_keyframe_requests(sender, lambda: received.append("observer"))
        sender._send_keyframe()
        assert received == ["observer", "handler"]

        sent: list[None] = []
        aiortc_hooks.observe_keyframe_requests_sent(transceiver.receiver, lambda: sent.append(None))
        await aiortc_hooks.send_pli(transceiver.receiver, 1234)  # not connected: nothing leaves
        assert sent == [None]
    finally:
        await pc.close()


async def test_force_keyframe_reaches_the_encoder_past_the_shadow() -> None:
    pc = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    try:
        sender = pc.addTransceiver("video").sender
        aiortc_hooks.set_keyframe_request_handler(sender, lambda: None)
        assert sender._RTCRtpSender__force_keyframe is False  # type: ignore[attr-defined]
        aiortc_hooks.force_keyframe(sender)
        assert sender._RTCRtpSender__force_keyframe is True  # type: ignore[attr-defined]
    finally:
        await pc.close()


@pytest.mark.parametrize(
    ("mime", "av_encoder"), [("video/VP8", "libvpx"), ("video/H264", "libx264")]
)
def test_media_decoder_decodes_whole_encoded_frames(mime: str, av_encoder: str) -> None:
    encoder = av.CodecContext.create(av_encoder, "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 240, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 30)
    encoder.options = {"tune": "zerolatency"} if av_encoder == "libx264" else {}  # like a browser
    frame = av.VideoFrame(320, 240, "yuv420p")
    for plane, value in zip(frame.planes, (200, 128, 128), strict=True):
        plane.update(bytes([value]) * plane.buffer_size)
    frame.pts = 0
    packets = [*encoder.encode(frame), *encoder.encode(None)]

    decoder = aiortc_hooks.media_decoder(aiortc.RTCRtpCodecParameters(mime, clockRate=90000))
    decoded = decoder.decode(SimpleNamespace(data=bytes(packets[0]), timestamp=3000))
    assert [(f.width, f.height, f.pts) for f in decoded] == [(320, 240, 3000)]
    assert abs(frame_brightness(decoded[0]) - shown(200)) < 3


def test_datagram_and_socket_names_are_where_the_hooks_expect() -> None:
    # StunProtocol hands every datagram from the remote to its Connection, through the instance
    source = inspect.getsource(aioice.ice.StunProtocol.datagram_received)
    assert "self.receiver.data_received(data, self.local_candidate.component)" in source
    assert "self.receiver.request_received(message, addr, self)" in source
    assert parameters(aioice.ice.Connection.data_received) == ["self", "data", "component"]
    assert parameters(aioice.ice.Connection.request_received) == [
        "self",
        "message",
        "addr",
        "protocol",
    ]
    # the UDP sockets close_ice_sockets closes
    assert "self._protocols: list[StunProtocol] = []" in inspect.getsource(aioice.ice.Connection)
    assert "self.transport = cast(asyncio.DatagramTransport, transport)" in inspect.getsource(
        aioice.ice.StunProtocol.connection_made
    )
    # aioice's consent freshness, which relay/liveness.py does not wait for
    assert "if failures >= CONSENT_FAILURES:" in inspect.getsource(aioice.ice.Connection)


@pytest.mark.asyncio
async def test_datagrams_are_counted_and_sockets_closed() -> None:
    aiortc_hooks.install()
    offerer = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    answerer = aiortc.RTCPeerConnection(aiortc.RTCConfiguration(iceServers=[]))
    try:
        offerer.addTransceiver("audio")
        with aiortc_hooks.gather_on(("127.0.0.1",)):
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            await answerer.setLocalDescription(await answerer.createAnswer())
        transport = answerer.getTransceivers()[0].receiver.transport.transport
        connection = transport._connection
        requests: list[object] = []
        request_received = connection.request_received

        def spy(message: object, addr: tuple[str, int], protocol: object) -> None:
            requests.append(message)
            request_received(message, addr, protocol)  # type: ignore[arg-type]

        connection.request_received = spy  # type: ignore[method-assign]
        received = aiortc_hooks.count_datagrams_received(transport)
        assert received() == 0
        await offerer.setRemoteDescription(answerer.localDescription)
        await eventually(lambda: answerer.connectionState == "connected", 10)
        assert requests  # the offerer's ICE checks: STUN requests, counted
        assert received() > len(requests)  # and DTLS as data
        protocols = list(connection._protocols)
        assert protocols

        aiortc_hooks.close_ice_sockets(transport)
        assert all(p.transport.is_closing() for p in protocols)
    finally:
        await offerer.close()
        await answerer.close()


def test_a_registered_track_does_not_outlive_its_owner() -> None:
    class Owner:
        def __init__(self) -> None:
            self.track = RemoteStreamTrack("video")

        def on_decoder(self, passthrough: bool) -> None:
            pass

    owner = Owner()  # like a Peer: it holds the track, the track's choice calls back into it
    aiortc_hooks.register_receiver_track(owner.track, passthrough=True, on_decoder=owner.on_decoder)
    gone = weakref.ref(owner)
    del owner
    gc.collect()
    assert gone() is None
