"""Pairing lifecycle: unpair, close_peer, state reports, legs whose codecs differ."""

import asyncio
from collections.abc import Callable

import pytest

from relay.aiortc_hooks import sender_encoder
from relay.errors import OfferError
from relay.relay import Relay
from tests.relay.clients import Client, SolidVideoTrack, eventually, join, shown

pytestmark = pytest.mark.asyncio


async def test_unpair_stops_forwarding_and_pair_resumes_it(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    a, b = new_client(SolidVideoTrack(200)), new_client(SolidVideoTrack(40))
    await join(relay, "a", a)
    await join(relay, "b", b)
    relay.pair("a", "b")
    await eventually(lambda: len(b.video_frames) > 5 and b.audio_frames > 5)

    relay.unpair("a")
    await asyncio.sleep(0.3)  # what was already queued drains
    forwarded, frames = relay.counters.packets_forwarded, len(b.video_frames)
    await asyncio.sleep(0.5)
    assert relay.counters.packets_forwarded == forwarded
    assert len(b.video_frames) == frames

    relay.pair("b", "a")
    await eventually(lambda: len(b.video_frames) > frames + 5)


async def test_state_reports_and_close_peer(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    states: list[tuple[str, str]] = []
    relay.on_state_change = lambda peer_id, state: states.append((peer_id, state))
    a = new_client()
    await join(relay, "a", a)
    await eventually(lambda: relay.connection_state("a") == "connected")

    a2 = new_client()
    await join(relay, "a", a2)  # replaces the first connection: nothing reported for it
    await eventually(lambda: states.count(("a", "connected")) == 2)
    assert ("a", "closed") not in states
    assert relay.counters.peer_connections_open == 1

    await relay.close_peer("a")
    assert states[-1] == ("a", "closed")
    assert relay.connection_state("a") is None
    assert relay.counters.peer_connections_open == 0
    await relay.close_peer("a")  # closing twice is harmless
    assert states.count(("a", "closed")) == 1


async def test_legs_without_a_shared_video_codec_are_transcoded(
    relay: Relay, new_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    a = new_client(SolidVideoTrack(40), video_codecs=("H264",))  # like Safari: H.264 only
    b = new_client(SolidVideoTrack(210), video_codecs=("VP8",))  # a browser with VP8 only
    relay.pair("a", "b")
    await join(relay, "a", a)
    await join(relay, "b", b)

    # Each side sees the other's picture, in its own codec.
    await eventually(lambda: len(a.video_frames) > 10 and len(b.video_frames) > 10, 30)
    assert abs(a.video_frames[-1][2] - shown(210)) < 8
    assert abs(b.video_frames[-1][2] - shown(40)) < 8
    assert relay.counters.frames_transcoded > 20
    assert "video transcoded, codecs differ (h264, vp8)" in caplog.text
    for peer_id in ("a", "b"):
        leg = relay.peer(peer_id)
        assert leg is not None
        assert leg.transcoding("video") and not leg.transcoding("audio")  # audio: both opus
        video_sender = next(t.sender for t in leg.pc.getTransceivers() if t.kind == "video")
        assert sender_encoder(video_sender).codec is not None  # really encoding
    assert relay.counters.real_decoders == 0  # receivers still pass encoded frames on
    # The operators' statistics say which direction is transcoded.
    handled = {
        (peer.peer_id, d.kind, d.direction): (d.codec, d.transcoded)
        for peer in await relay.stats()
        for d in peer.directions
    }
    assert handled[("a", "video", "out")] == ("h264", True)
    assert handled[("b", "video", "out")] == ("vp8", True)
    assert handled[("a", "audio", "out")] == ("opus", False)
    assert handled[("a", "video", "in")] == ("h264", False)


async def test_a_leg_answered_after_its_partner_takes_the_partners_codec(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    a = new_client(video_codecs=("VP8", "H264"))
    b = new_client(video_codecs=("H264", "VP8"))  # would get H264 if answered on its own
    relay.pair("a", "b")
    await join(relay, "a", a)
    await join(relay, "b", b)
    legs = relay.peer("a"), relay.peer("b")
    assert [leg.codecs["video"] for leg in legs if leg] == ["vp8", "vp8"]
    await eventually(lambda: len(a.video_frames) > 5 and len(b.video_frames) > 5)
    assert relay.counters.frames_transcoded == 0


async def test_concurrent_offers_for_one_peer_leave_one_connection(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    first, second = new_client(), new_client()
    offers = [await first.offer(), await second.offer()]
    results = await asyncio.gather(
        *(relay.answer("a", offer) for offer in offers), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, OfferError)]
    assert [e.code for e in errors] == ["superseded"]
    assert relay.counters.peer_connections_open == 1
    winner = second if isinstance(results[1], str) else first
    answer = next(r for r in results if isinstance(r, str))
    await winner.accept(answer)
    await eventually(lambda: relay.connection_state("a") == "connected")
