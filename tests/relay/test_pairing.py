"""Pairing lifecycle: unpair, close_peer, state reports, legs whose codecs differ."""

import asyncio
from collections.abc import Callable

import pytest

from relay.errors import OfferError
from relay.relay import Relay
from tests.relay.clients import Client, SolidVideoTrack, eventually, join

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


async def test_legs_with_different_video_codecs_forward_audio_only(
    relay: Relay, new_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    a = new_client(video_codecs=("H264",))  # like Safari offering H264 only
    b = new_client(video_codecs=("VP8",))
    relay.pair("a", "b")
    await join(relay, "a", a)
    await join(relay, "b", b)

    await eventually(lambda: a.audio_frames > 10 and b.audio_frames > 10)
    assert a.video_frames == [] and b.video_frames == []
    assert "video not forwarded, codecs differ (h264, vp8)" in caplog.text


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
