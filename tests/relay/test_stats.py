"""Relay.stats() with two real paired clients: directions, bitrates, keyframe requests, path."""

import asyncio
from collections.abc import Callable

import pytest

from relay.aiortc_hooks import send_pli
from relay.relay import Relay
from relay.stats import DirectionStats, PeerStats
from tests.relay.clients import Client, SolidVideoTrack, eventually, join, receiving_video

pytestmark = pytest.mark.asyncio


def direction(peer: PeerStats, kind: str, way: str) -> DirectionStats:
    return next(d for d in peer.directions if (d.kind, d.direction) == (kind, way))


def by_id(stats: list[PeerStats]) -> dict[str, PeerStats]:
    return {peer.peer_id: peer for peer in stats}


async def video_out_rtt(relay: Relay, peer_id: str) -> float | None:
    return direction(by_id(await relay.stats())[peer_id], "video", "out").rtt_ms


async def test_stats_of_a_call(relay: Relay, new_client: Callable[..., Client]) -> None:
    a, b = new_client(SolidVideoTrack(200)), new_client(SolidVideoTrack(40))
    await join(relay, "a", a)
    await join(relay, "b", b)
    await eventually(lambda: receiving_video(relay, "a") and receiving_video(relay, "b"))
    relay.pair("a", "b")  # once both send: a keyframe request goes to each
    await eventually(lambda: len(a.video_frames) > 10 and len(b.video_frames) > 10)

    first = by_id(await relay.stats())
    assert set(first) == {"a", "b"}
    for peer in first.values():
        assert peer.state == "connected" and peer.path == "direct" and peer.forwarded
        assert peer.duration_s > 0
        assert {(d.kind, d.direction) for d in peer.directions} == {
            ("audio", "in"),
            ("audio", "out"),
            ("video", "in"),
            ("video", "out"),
        }
        video_in = direction(peer, "video", "in")
        assert video_in.codec == "vp8" and direction(peer, "audio", "out").codec == "opus"
        assert video_in.packets > 0 and video_in.packets_lost == 0
        assert video_in.jitter_ms is not None and video_in.rtt_ms is None
        assert video_in.keyframe_requests >= 1  # the relay asked for one when it paired
        assert direction(peer, "video", "out").packets > 0

    (source,) = a.receiver("video").getSynchronizationSources()
    await send_pli(a.receiver("video"), source.source)  # a's browser asks the relay for a keyframe
    await asyncio.sleep(0.5)

    second = by_id(await relay.stats())
    for peer in second.values():
        for way in ("in", "out"):
            assert direction(peer, "video", way).bitrate_kbps > 0
            assert direction(peer, "audio", way).bitrate_kbps > 0
    assert direction(second["a"], "video", "out").keyframe_requests >= 1

    async with asyncio.timeout(10):  # the round trip needs a receiver report matching our SR
        while (rtt := await video_out_rtt(relay, "a")) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    assert 0 <= rtt < 500

    await relay.close_peer("a")
    assert [peer.peer_id for peer in await relay.stats()] == ["b"]
