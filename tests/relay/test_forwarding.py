"""Two real aiortc clients through the relay: media arrives, encoded and never transcoded."""

from collections.abc import Callable

import pytest

from relay.aiortc_hooks import send_pli, sender_encoder
from relay.relay import Relay
from tests.relay.clients import Client, SolidVideoTrack, eventually, join, receiving_video

pytestmark = pytest.mark.asyncio

BRIGHT, DARK = 200, 40


def sees(client: Client, width: int, height: int, luma: int) -> bool:
    """Whether the client has decoded a frame of this size and (about) this brightness."""
    return any(
        (w, h) == (width, height) and abs(mean - luma) < 25 for w, h, mean in client.video_frames
    )


async def test_paired_clients_receive_each_other(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    a = new_client(SolidVideoTrack(BRIGHT, 640, 480))
    b = new_client(SolidVideoTrack(DARK, 640, 480))
    relay.pair("a", "b")  # before either peer exists
    await join(relay, "a", a)
    await join(relay, "b", b)

    await eventually(lambda: sees(b, 640, 480, BRIGHT) and sees(a, 640, 480, DARK))
    await eventually(lambda: a.audio_frames > 10 and b.audio_frames > 10)
    assert relay.connection_state("a") == relay.connection_state("b") == "connected"


async def test_media_is_forwarded_not_transcoded(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    a, b = new_client(SolidVideoTrack(BRIGHT)), new_client(SolidVideoTrack(DARK))
    states: list[tuple[str, str]] = []
    relay.on_state_change = lambda peer_id, state: states.append((peer_id, state))
    await join(relay, "a", a)
    await join(relay, "b", b)
    await eventually(lambda: receiving_video(relay, "a") and receiving_video(relay, "b"))
    assert ("a", "connected") in states and ("b", "connected") in states
    relay.pair("a", "b")  # after both are connected and sending
    assert relay.counters.keyframe_requests_forwarded == 2  # one to each side, at once

    await eventually(lambda: sees(b, 320, 240, BRIGHT) and sees(a, 320, 240, DARK))
    await eventually(lambda: a.audio_frames > 10 and b.audio_frames > 10)
    counters = relay.counters
    assert counters.packets_forwarded > 20
    assert counters.passthrough_decoders >= 4
    assert counters.real_decoders == 0
    for peer_id in ("a", "b"):
        peer = relay.peer(peer_id)
        assert peer is not None
        assert peer.codecs == {"audio": "opus", "video": "vp8"}
        video_sender = next(s for s in peer.pc.getSenders() if s.kind == "video")
        encoder = sender_encoder(video_sender)
        assert encoder is not None  # it packed frames...
        assert encoder.codec is None  # ...and never opened a VP8 encoder


async def test_keyframe_request_reaches_the_source(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    a, b = new_client(SolidVideoTrack(BRIGHT)), new_client(SolidVideoTrack(DARK))
    relay.pair("a", "b")
    await join(relay, "a", a)
    await join(relay, "b", b)
    await eventually(lambda: sees(b, 320, 240, BRIGHT))

    a_sender = a.sender("video")
    original = a_sender._send_keyframe
    requests: list[None] = []

    def spy() -> None:
        requests.append(None)
        original()

    a_sender._send_keyframe = spy  # type: ignore[method-assign]
    before = relay.counters.keyframe_requests_forwarded
    receiver = b.receiver("video")
    (source,) = receiver.getSynchronizationSources()
    await send_pli(receiver, source.source)

    await eventually(lambda: len(requests) >= 1, seconds=5)
    assert relay.counters.keyframe_requests_forwarded > before


async def test_replaced_peer_is_reattached(relay: Relay, new_client: Callable[..., Client]) -> None:
    a, b = new_client(SolidVideoTrack(BRIGHT)), new_client(SolidVideoTrack(DARK))
    relay.pair("a", "b")
    await join(relay, "a", a)
    await join(relay, "b", b)
    await eventually(lambda: sees(b, 320, 240, BRIGHT))

    await a.close()  # the patient's page reloads...
    a2 = new_client(SolidVideoTrack(BRIGHT, 160, 120))
    await join(relay, "a", a2)  # ...and offers again with the same peer id

    await eventually(lambda: sees(b, 160, 120, BRIGHT) and sees(a2, 320, 240, DARK))
    assert relay.counters.peer_connections_open == 2


async def test_h264_is_forwarded_too(relay: Relay, new_client: Callable[..., Client]) -> None:
    a = new_client(SolidVideoTrack(BRIGHT), video_codecs=("H264",))
    b = new_client(SolidVideoTrack(DARK), video_codecs=("H264",))
    relay.pair("a", "b")
    await join(relay, "a", a)
    await join(relay, "b", b)

    await eventually(lambda: sees(b, 320, 240, BRIGHT) and sees(a, 320, 240, DARK))
    peer = relay.peer("a")
    assert peer is not None and peer.codecs["video"] == "h264"
    assert relay.counters.real_decoders == 0
