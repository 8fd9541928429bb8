"""A browser that vanishes without hanging up (tab killed, network gone) is reported in time."""

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable

import aioice.ice
import pytest

from relay.config import RelayConfig
from relay.liveness import check_interval, detection_bound
from relay.relay import Relay
from tests.relay.clients import Client, SolidVideoTrack, eventually, join
from tests.relay.conftest import LOOPBACK_CONFIG

pytestmark = pytest.mark.asyncio

REQUIRED_SECONDS = 35.0  # issue 4: a vanished browser is detected within 35 s
SILENCE = 2.0  # the tests' silence timeout, so they run in seconds


@pytest.fixture
async def quick_relay() -> AsyncIterator[Relay]:
    relay = Relay(dataclasses.replace(LOOPBACK_CONFIG, silence_timeout_seconds=SILENCE))
    yield relay
    await relay.close()
    assert relay.counters.peer_connections_open == 0


def test_the_default_silence_timeout_tells_within_35_seconds() -> None:
    timeout = RelayConfig().silence_timeout_seconds
    # the relay's own bound, with a second to spare for closing and reporting
    assert detection_bound(timeout) + 1.0 <= REQUIRED_SECONDS
    # aioice's consent freshness alone would not do: 6 unanswered checks, 4-6 s apart, 0.5 s each
    consent_worst = aioice.ice.CONSENT_FAILURES * (1.2 * aioice.ice.CONSENT_INTERVAL + 0.5)
    assert consent_worst > REQUIRED_SECONDS
    # a browser that sends no media still sends a consent check about every 5 s (RFC 7675):
    # three may go missing before it is taken as gone
    assert timeout >= 3 * 5.0


def test_detection_bound() -> None:
    assert check_interval(15.0) == 1.0
    assert check_interval(SILENCE) == SILENCE / 4
    assert detection_bound(15.0) == 17.0


async def test_a_vanished_browser_is_reported_failed_and_closed(
    quick_relay: Relay, new_client: Callable[..., Client]
) -> None:
    relay = quick_relay
    reports: list[tuple[str, str, float]] = []
    relay.on_state_change = lambda peer_id, state: reports.append(
        (peer_id, state, time.monotonic())
    )
    patient, professional = new_client(SolidVideoTrack(200)), new_client(SolidVideoTrack(40))
    relay.pair("patient", "professional")
    await join(relay, "patient", patient)
    await join(relay, "professional", professional)
    await eventually(lambda: len(patient.video_frames) > 5 and len(professional.video_frames) > 5)
    await asyncio.sleep(2 * SILENCE)  # a live browser is never taken as gone
    assert [state for _, state, _ in reports] == ["connected", "connected"]

    patient.vanish()  # the tab is killed: nothing more leaves it
    vanished = time.monotonic()
    await eventually(lambda: ("patient", "failed") in [(p, s) for p, s, _ in reports], 35)
    elapsed = next(at for p, s, at in reports if (p, s) == ("patient", "failed")) - vanished
    assert elapsed < REQUIRED_SECONDS
    assert SILENCE - check_interval(SILENCE) <= elapsed <= detection_bound(SILENCE) + 1.0
    # reported once, closed and forgotten by the relay; the other side stays
    assert [(p, s) for p, s, _ in reports].count(("patient", "failed")) == 1
    assert ("patient", "closed") not in [(p, s) for p, s, _ in reports]
    assert relay.connection_state("patient") is None
    await eventually(lambda: relay.counters.peer_connections_open == 1, 5)
    assert relay.connection_state("professional") == "connected"
    await relay.close_peer("patient")  # what the web layer does when the call ends: harmless
    assert [(p, s) for p, s, _ in reports].count(("patient", "closed")) == 0

    # the page comes back with a new connection: the pairing still holds, media flows again
    frames = len(professional.video_frames)
    again = new_client(SolidVideoTrack(200))
    await join(relay, "patient", again)
    await eventually(lambda: len(professional.video_frames) > frames + 5)
    await eventually(lambda: len(again.video_frames) > 5)


async def test_a_browser_that_closes_its_connection_is_reported_closed(
    quick_relay: Relay, new_client: Callable[..., Client]
) -> None:
    relay = quick_relay
    reports: list[tuple[str, str]] = []
    relay.on_state_change = lambda peer_id, state: reports.append((peer_id, state))
    client = new_client()
    await join(relay, "a", client)
    await eventually(lambda: relay.connection_state("a") == "connected")

    await client.close()  # a DTLS close alert: aiortc closes the relay's side by itself
    await eventually(lambda: ("a", "closed") in reports, 10)
    assert reports == [("a", "connected"), ("a", "closed")]
    assert relay.connection_state("a") is None
    await eventually(lambda: relay.counters.peer_connections_open == 0, 5)


async def test_an_answered_browser_that_never_connects_is_reported_failed(
    quick_relay: Relay, new_client: Callable[..., Client]
) -> None:
    relay = quick_relay
    reports: list[tuple[str, str]] = []
    relay.on_state_change = lambda peer_id, state: reports.append((peer_id, state))
    client = new_client()
    await relay.answer("a", await client.offer())  # the answer never reaches the page
    await eventually(lambda: ("a", "failed") in reports, detection_bound(SILENCE) + 5)
    assert relay.connection_state("a") is None
    await eventually(lambda: relay.counters.peer_connections_open == 0, 5)


async def test_a_vanished_probe_is_closed_with_its_report_kept(
    quick_relay: Relay, new_client: Callable[..., Client]
) -> None:
    relay = quick_relay
    client = new_client(SolidVideoTrack(200))
    await client.accept(await relay.answer_probe("p", await client.offer()))

    def measured() -> bool:
        report = relay.probe_report("p")
        return report is not None and report.video is not None and report.video.frames > 5

    await eventually(measured)
    client.vanish()
    await eventually(lambda: relay.counters.probes_running == 0, detection_bound(SILENCE) + 5)
    await eventually(lambda: relay.counters.peer_connections_open == 0, 5)
    report = relay.probe_report("p")
    assert report is not None and report.video is not None and report.video.frames > 5
