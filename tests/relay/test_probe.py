"""Device-test probes with real aiortc clients: measures, loopback, limits, clean closes."""

import asyncio
import dataclasses
from collections.abc import Callable

import pytest

from relay.errors import OfferError
from relay.probe import ProbeReport
from relay.relay import Relay
from tests.relay.clients import Client, SineAudioTrack, SolidVideoTrack, eventually, shown
from tests.relay.conftest import LOOPBACK_CONFIG, decoder_threads

pytestmark = pytest.mark.asyncio

BRIGHT = 200


async def start_probe(relay: Relay, probe_id: str, client: Client) -> None:
    await client.accept(await relay.answer_probe(probe_id, await client.offer()))


def report(relay: Relay, probe_id: str) -> ProbeReport:
    found = relay.probe_report(probe_id)
    assert found is not None
    return found


def video_frames(relay: Relay, probe_id: str) -> int:
    video = report(relay, probe_id).video
    return 0 if video is None else video.frames


async def test_probe_measures_what_the_browser_sends_and_loops_video_back(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    client = new_client(SolidVideoTrack(BRIGHT), audio=SineAudioTrack(1000, -6.0))
    await start_probe(relay, "p", client)
    assert relay.counters.probes_running == 1
    await eventually(lambda: video_frames(relay, "p") >= 75)  # about 2.5 s at 30 fps
    await eventually(lambda: report(relay, "p").network.rtt_ms is not None, seconds=10)

    live = report(relay, "p")
    video, audio, network = live.video, live.audio, live.network
    assert video is not None and audio is not None
    assert (video.width, video.height) == (320, 240)
    assert 20 <= video.fps <= 35
    assert video.brightness == pytest.approx(shown(BRIGHT), abs=5)
    assert video.black_frames == 0
    assert video.frozen_frames > video.frames // 2  # a still picture: frames like the last
    assert not audio.silent
    # -9 dBFS RMS sent; aiortc's encoder upmixes the mono test track to stereo at -3 dB
    assert audio.rms_dbfs == pytest.approx(-12.0, abs=1.5)
    assert audio.peak_dbfs == pytest.approx(-9.0, abs=1.5)
    assert audio.clipped_fraction == 0.0
    assert network.path == "direct"
    assert network.loss_percent == 0.0
    assert network.jitter_ms is not None and network.jitter_ms >= 0
    assert network.rtt_ms is not None and 0 <= network.rtt_ms < 500
    assert live.seconds >= 2.5

    # the browser sees its video as the relay decoded it (re-encoded by aiortc's sender)
    await eventually(
        lambda: any(
            (w, h) == (320, 240) and abs(luma - shown(BRIGHT)) < 10
            for w, h, luma in client.video_frames
        )
    )
    assert client.audio_frames == 0  # audio is not looped back

    (entry,) = await relay.stats()
    assert entry.peer_id == "p" and entry.forwarded is False and entry.state == "connected"

    counters = relay.counters
    assert counters.probe_decoders >= 2 and counters.real_decoders == 0
    final = await relay.close_probe("p")
    assert final is not None and final.video is not None
    assert final.video.frames >= video.frames
    assert final.seconds >= live.seconds
    assert relay.probe_report("p") is None
    assert counters.probes_running == 0 and counters.peer_connections_open == 0
    assert decoder_threads() == []
    assert await relay.close_probe("p") is None  # closing twice is harmless


async def test_black_video_and_silence_are_reported(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    client = new_client(SolidVideoTrack(0))  # aiortc's default audio track is silence
    await start_probe(relay, "p", client)
    await eventually(lambda: video_frames(relay, "p") >= 15)
    await eventually(lambda: (report(relay, "p").audio or _no_audio).samples > 48000)

    live = report(relay, "p")
    assert live.video is not None and live.audio is not None
    assert live.video.black_frames == live.video.frames
    assert live.video.brightness < 16
    assert live.audio.silent


async def test_audio_only_offer_has_no_video_measure(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    client = new_client(audio=SineAudioTrack(), kinds=("audio",))
    await start_probe(relay, "p", client)
    await eventually(lambda: (report(relay, "p").audio or _no_audio).samples > 48000)

    final = await relay.close_probe("p")
    assert final is not None
    assert final.video is None
    assert final.audio is not None and not final.audio.silent
    assert final.network.rtt_ms is None  # nothing is sent back to measure it on
    assert final.network.path == "direct"


async def test_more_probes_than_allowed_are_refused(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    limit = relay.config.max_probes
    for i in range(limit):
        await relay.answer_probe(f"p{i}", await new_client().offer())

    with pytest.raises(OfferError) as refused:
        await relay.answer_probe("extra", await new_client().offer())
    assert refused.value.code == "busy"
    assert relay.counters.probes_running == limit

    await relay.answer_probe("p0", await new_client().offer())  # a page reload replaces its own
    assert relay.counters.probes_running == limit
    await relay.close_probe("p1")
    await relay.answer_probe("extra", await new_client().offer())
    assert relay.counters.probes_running == limit


async def test_offers_arriving_together_do_not_pass_the_limit_together(
    new_client: Callable[..., Client],
) -> None:
    relay = Relay(dataclasses.replace(LOOPBACK_CONFIG, max_probes=2))
    try:
        offers = [await new_client().offer() for _ in range(4)]
        results = await asyncio.gather(
            *(relay.answer_probe(f"p{i}", offer) for i, offer in enumerate(offers)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, OfferError)]
        assert [r.code for r in refused] == ["busy", "busy"]
        assert relay.counters.probes_running == 2
    finally:
        await relay.close()


async def test_bad_offer_is_refused_with_its_code(relay: Relay) -> None:
    with pytest.raises(OfferError) as refused:
        await relay.answer_probe("p", "hello")
    assert refused.value.code == "not_sdp"
    assert relay.counters.probes_running == relay.counters.peer_connections_open == 0


async def test_probe_is_closed_when_its_time_is_up(new_client: Callable[..., Client]) -> None:
    relay = Relay(dataclasses.replace(LOOPBACK_CONFIG, max_probe_seconds=3))
    try:
        await start_probe(relay, "p", new_client())
        await eventually(lambda: relay.counters.probes_running == 0, seconds=10)
        assert relay.counters.peer_connections_open == 0
        kept = report(relay, "p")  # the report outlives the connection
        assert kept.video is not None and kept.video.frames > 0
        assert 3 <= kept.seconds < 8
        assert await relay.close_probe("p") == kept
        assert relay.probe_report("p") is None
    finally:
        await relay.close()


@dataclasses.dataclass(frozen=True)
class _NoAudio:
    samples: int = 0


_no_audio = _NoAudio()
