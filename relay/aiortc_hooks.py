"""Every use of aiortc's and aioice's semi-private names, in one place (written for aiortc 1.16.0).

tests/relay/test_aiortc_hooks.py fails loudly if an upgrade moves any of them. The names:

- aiortc.rtcrtpreceiver.decoder_worker(loop, input_q, output_q, decode_error): module-level
  function run in the "<kind>-decoder" thread that RTCRtpReceiver.receive() starts (looked up as a
  module global at that moment). output_q is the RemoteStreamTrack's queue. Replaced by a wrapper
  that tells get_decoder (below), through a thread-local, which receiver it decodes for.
- aiortc.rtcrtpreceiver.get_decoder(codec): module global the decoder thread calls whenever the
  codec changes. Replaced: for a track registered as passthrough it returns a PassthroughDecoder,
  whose decode() returns the encoded frame as an av.Packet instead of decoded frames; for a
  track registered with on_encoded, a decoder that counts the encoded bytes first.
- RemoteStreamTrack._queue: the asyncio.Queue the decoder thread fills. register_receiver_track
  sets an attribute of ours on it (the decoder choice), which the decoder thread reads. Not a
  global registry keyed by the queue: the choice refers to the peer, the peer to the queue, so
  such an entry would keep every peer ever made alive; an attribute makes a plain cycle that the
  garbage collector frees with the peer.
- RTCRtpSender._send_keyframe(): called by the sender when a PLI/FIR arrives; on the packet path
  (track.recv() returns av.Packet) it does nothing. Shadowed per sender by an instance attribute
  (set_keyframe_request_handler), which observe_keyframe_requests wraps to count requests.
- RTCRtpSender.__encoder (mangled _RTCRtpSender__encoder): the encoder object; read only, so
  tests can prove nothing was encoded (a VP8 encoder that only packed has codec None).
- RTCRtpReceiver._send_rtcp_pli(media_ssrc): sends a Picture Loss Indication upstream. Called
  through the instance (aiortc's own loss-triggered requests too), so an instance attribute that
  wraps it sees every request (observe_keyframe_requests_sent).
- RTCRtpReceiver.__remote_streams / __rtx_ssrc (mangled _RTCRtpReceiver__...): per-SSRC
  reception statistics (aiortc.rtcrtpreceiver.StreamStatistics: packets_received, packets_lost,
  jitter, _clockrate) and the retransmission SSRCs. Read because aiortc's "inbound-rtp" stats
  give every SSRC of a receiver the same id, so once retransmissions arrive the RTX stream's
  numbers replace the media stream's in getStats().
- RTCIceTransport._connection._nominated: aioice's nominated candidate pair per component, whose
  local_candidate.type and remote_candidate.type tell a direct path from a TURN-relayed one.
- RTCRtpSender._send_keyframe as the class's method: called unbound (force_keyframe) to make a
  transcoding sender's encoder emit a keyframe, past the per-sender shadow above.
- aiortc.codecs.get_decoder(codec): aiortc's decoder for a codec (an object whose decode() takes
  something shaped like aiortc.jitterbuffer.JitterFrame: .data, .timestamp), for transcoding.
- aiortc.rtcpeerconnection.is_codec_compatible(a, b): aiortc's own codec matching rule (mime,
  clock rate and, for H.264, packetization-mode and profile), reused to inspect offers.
- aioice.ice.get_host_addresses(use_ipv4, use_ipv6): module global used by Connection
  .gather_candidates(); it always leaves out 127.0.0.1. Replaced by a function that returns the
  addresses set with gather_on() in the current context (contextvars: the relay's gathering and a
  test client's gathering can use different addresses in one process), else the original result.
- aioice Connection.data_received(data, component) and .request_received(message, addr,
  protocol), reached through RTCIceTransport._connection: StunProtocol.datagram_received hands
  every datagram from the remote to one of them (DTLS/SRTP/SRTCP to the first, STUN requests such
  as the browser's consent checks to the second), calling them through the instance. Wrapped per
  connection by instance attributes (count_datagrams_received) to tell a silent browser.
- aioice Connection._protocols and StunProtocol.transport: the ICE connection's UDP sockets,
  closed at once by close_ice_sockets (tests only: a browser whose tab was killed).
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aioice.ice
import aiortc
import aiortc.codecs
import aiortc.rtcpeerconnection
import aiortc.rtcrtpreceiver
from aiortc import (
    MediaStreamTrack,
    RTCIceTransport,
    RTCRtpCodecParameters,
    RTCRtpReceiver,
    RTCRtpSender,
)

from relay.passthrough import PassthroughDecoder

AIORTC_VERSION = "1.16.0"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _DecoderChoice:
    """How to decode one registered receiver track, and whom to tell when a decoder is made."""

    passthrough: bool
    on_decoder: Callable[[bool], None]
    on_encoded: Callable[[int], None] | None


_CHOICE_ATTRIBUTE = "_atende_decoder_choice"  # set on a RemoteStreamTrack's queue
_thread_choice = threading.local()
_gather_addresses: ContextVar[tuple[str, ...] | None] = ContextVar(
    "atende_gather_addresses", default=None
)
_install_lock = threading.Lock()
_originals: dict[str, Callable[..., Any]] = {}


def register_receiver_track(
    track: MediaStreamTrack,
    *,
    passthrough: bool,
    on_decoder: Callable[[bool], None],
    on_encoded: Callable[[int], None] | None = None,
) -> None:
    """Choose how the receiver of a remote track decodes; call before its receiver starts.

    on_decoder(passthrough) runs on the event loop each time a decoder is made for the track.
    on_encoded(size) runs in the decoder thread with the size of every encoded frame about to
    be decoded: it must be quick and safe to call from that thread (a counter increment).
    """
    queue = getattr(track, "_queue", None)
    if not isinstance(queue, asyncio.Queue):
        raise TypeError("not an aiortc RemoteStreamTrack")
    setattr(queue, _CHOICE_ATTRIBUTE, _DecoderChoice(passthrough, on_decoder, on_encoded))


class _CountingDecoder:
    """Tells on_encoded the size of each encoded frame, then decodes it with decoder."""

    def __init__(self, decoder: Any, on_encoded: Callable[[int], None]) -> None:
        self._decoder = decoder
        self._on_encoded = on_encoded

    def decode(self, encoded_frame: Any) -> Any:
        self._on_encoded(len(encoded_frame.data))
        return self._decoder.decode(encoded_frame)


def _decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: Any,
    output_q: "asyncio.Queue[Any]",
    decode_error: threading.Event,
) -> None:
    """aiortc's decoder thread, told which registered track (if any) it decodes for."""
    choice: _DecoderChoice | None = getattr(output_q, _CHOICE_ATTRIBUTE, None)
    _thread_choice.value = None if choice is None else (loop, choice)
    try:
        _originals["decoder_worker"](loop, input_q, output_q, decode_error)
    finally:
        _thread_choice.value = None


def _get_decoder(codec: RTCRtpCodecParameters) -> Any:
    """A PassthroughDecoder for passthrough tracks, aiortc's decoder for the others."""
    current: tuple[asyncio.AbstractEventLoop, _DecoderChoice] | None = getattr(
        _thread_choice, "value", None
    )
    if current is None:
        return _originals["get_decoder"](codec)
    loop, choice = current
    decoder: Any
    if choice.passthrough:
        decoder = PassthroughDecoder(codec.name, codec.clockRate)
    else:
        decoder = _originals["get_decoder"](codec)
    with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody to tell
        loop.call_soon_threadsafe(choice.on_decoder, choice.passthrough)
    if choice.on_encoded is not None:
        decoder = _CountingDecoder(decoder, choice.on_encoded)
    return decoder


@contextlib.contextmanager
def gather_on(addresses: Sequence[str]) -> Iterator[None]:
    """Within this context, aioice gathers host candidates on exactly these addresses.

    An empty sequence keeps aioice's default (every interface except loopback). Tasks created
    inside the context (aiortc's gathering tasks) inherit it.
    """
    token = _gather_addresses.set(tuple(addresses) or None)
    try:
        yield
    finally:
        _gather_addresses.reset(token)


def _get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """aioice's host address lookup, overridden by gather_on()."""
    chosen = _gather_addresses.get()
    if chosen is None:
        result: list[str] = _originals["get_host_addresses"](use_ipv4, use_ipv6)
        return result
    return [a for a in chosen if (use_ipv6 if ":" in a else use_ipv4)]


def install() -> None:
    """Install the decoder and host-address hooks (process-wide; idempotent)."""
    with _install_lock:
        if _originals:
            return
        if aiortc.__version__ != AIORTC_VERSION:
            logger.warning(
                "aiortc %s found, hooks written for %s", aiortc.__version__, AIORTC_VERSION
            )
        _originals["decoder_worker"] = aiortc.rtcrtpreceiver.decoder_worker
        _originals["get_decoder"] = aiortc.rtcrtpreceiver.get_decoder  # type: ignore[attr-defined]
        _originals["get_host_addresses"] = aioice.ice.get_host_addresses
        # setattr: the replacements deliberately differ from the typed originals.
        setattr(aiortc.rtcrtpreceiver, "decoder_worker", _decoder_worker)  # noqa: B010
        setattr(aiortc.rtcrtpreceiver, "get_decoder", _get_decoder)  # noqa: B010
        setattr(aioice.ice, "get_host_addresses", _get_host_addresses)  # noqa: B010


def set_keyframe_request_handler(sender: RTCRtpSender, handler: Callable[[], None]) -> None:
    """Call handler (instead of nothing) when the sender's remote asks for a keyframe."""
    setattr(sender, "_send_keyframe", handler)  # noqa: B010 (an instance attribute shadows the method)


def force_keyframe(sender: RTCRtpSender) -> None:
    """Make the sender's encoder produce a keyframe next (aiortc's own handling of a PLI)."""
    RTCRtpSender._send_keyframe(sender)


def media_decoder(codec: RTCRtpCodecParameters) -> Any:
    """aiortc's decoder for codec: decode(frame with .data and .timestamp) -> list of frames."""
    return aiortc.codecs.get_decoder(codec)


def observe_keyframe_requests(sender: RTCRtpSender, on_request: Callable[[], None]) -> None:
    """Call on_request, then the sender's current handler, when its remote asks for a keyframe."""
    handler: Callable[[], None] = getattr(sender, "_send_keyframe")  # noqa: B009

    def observed() -> None:
        on_request()
        handler()

    setattr(sender, "_send_keyframe", observed)  # noqa: B010


def observe_keyframe_requests_sent(receiver: RTCRtpReceiver, on_sent: Callable[[], None]) -> None:
    """Call on_sent for every picture-loss request the receiver sends (ours and aiortc's own)."""
    send: Callable[[int], Awaitable[None]] = getattr(receiver, "_send_rtcp_pli")  # noqa: B009

    async def observed(media_ssrc: int) -> None:
        on_sent()
        await send(media_ssrc)

    setattr(receiver, "_send_rtcp_pli", observed)  # noqa: B010


@dataclass(frozen=True)
class ReceivedStream:
    """Reception statistics of one media SSRC of a receiver (jitter in RTP clock units)."""

    ssrc: int
    packets_received: int
    packets_lost: int
    jitter: int
    clock_rate: int


def received_streams(receiver: RTCRtpReceiver) -> list[ReceivedStream]:
    """The receiver's per-SSRC statistics, retransmission (RTX) streams left out."""
    streams = getattr(receiver, "_RTCRtpReceiver__remote_streams")  # noqa: B009
    rtx_ssrcs = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc")  # noqa: B009
    return [
        ReceivedStream(
            ssrc=ssrc,
            packets_received=stream.packets_received,
            packets_lost=stream.packets_lost,
            jitter=stream.jitter,
            clock_rate=stream._clockrate,
        )
        for ssrc, stream in list(streams.items())
        if ssrc not in rtx_ssrcs
    ]


def nominated_candidate_types(transport: RTCIceTransport) -> list[tuple[str, str]]:
    """(local, remote) candidate type of each nominated ICE pair: host, srflx, prflx or relay."""
    pairs = transport._connection._nominated.values()
    return [(pair.local_candidate.type, pair.remote_candidate.type) for pair in list(pairs)]


def sender_encoder(sender: RTCRtpSender) -> Any:
    """The sender's encoder object, or None before its first frame."""
    return getattr(sender, "_RTCRtpSender__encoder")  # noqa: B009 (name-mangled private)


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send a Picture Loss Indication for media_ssrc to the browser sending to receiver."""
    await receiver._send_rtcp_pli(media_ssrc)


def codec_compatible(a: RTCRtpCodecParameters, b: RTCRtpCodecParameters) -> bool:
    """aiortc's rule for whether two codec descriptions can talk to each other."""
    return aiortc.rtcpeerconnection.is_codec_compatible(a, b)


def count_datagrams_received(transport: RTCIceTransport) -> Callable[[], int]:
    """Count, from now on, every datagram the remote sends on transport (STUN requests such as
    ICE checks and consent checks, DTLS, SRTP, SRTCP); returns a function that reads the count.

    Responses to the relay's own STUN requests are not counted. Call at most once per transport.
    """
    connection = transport._connection
    count = [0]
    data_received: Callable[[bytes, int], None] = connection.data_received
    request_received: Callable[[Any, tuple[str, int], Any], None] = connection.request_received

    def counted_data(data: bytes, component: int) -> None:
        count[0] += 1
        data_received(data, component)

    def counted_request(message: Any, addr: tuple[str, int], protocol: Any) -> None:
        count[0] += 1
        request_received(message, addr, protocol)

    # instance attributes shadow the methods StunProtocol calls through the instance
    setattr(connection, "data_received", counted_data)  # noqa: B010
    setattr(connection, "request_received", counted_request)  # noqa: B010
    return lambda: count[0]


def close_ice_sockets(transport: RTCIceTransport) -> None:
    """Close the UDP sockets of transport's ICE connection at once, sending nothing more (no DTLS
    close alert, no RTCP BYE): what the system does to a browser whose tab is killed. For tests."""
    for protocol in list(transport._connection._protocols):
        protocol.transport.abort()
