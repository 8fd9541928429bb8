"""Twenty calls and device tests one after another leave nothing behind (issue 4)."""

import asyncio
import dataclasses
import gc
import os
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiortc import RTCPeerConnection

from relay.peer import Peer
from relay.relay import Relay
from tests.relay.clients import Client, SolidVideoTrack, eventually, join, shown
from tests.relay.conftest import LOOPBACK_CONFIG

pytestmark = pytest.mark.asyncio

CALLS = 20
SETTLE_SECONDS = 10.0  # closes finish in the background (aiortc's threads, pending callbacks)
# aiortc encodes (and packs) in the event loop's default executor, a ThreadPoolExecutor whose
# idle workers stay for reuse; it starts workers lazily up to this bound
# (ThreadPoolExecutor's default max_workers), so they are counted apart, against the bound.
EXECUTOR_PREFIX = "asyncio_"
EXECUTOR_MAX = min(32, (os.cpu_count() or 1) + 4)


def own_threads() -> list[str]:
    """Live threads other than the default executor's workers (decoder threads among them)."""
    return [t.name for t in threading.enumerate() if not t.name.startswith(EXECUTOR_PREFIX)]


def executor_threads() -> int:
    return sum(t.name.startswith(EXECUTOR_PREFIX) for t in threading.enumerate())


def live_connections() -> int:
    """Relay peers and RTCPeerConnections (the relay's and the test browsers') still in memory."""
    return sum(isinstance(o, Peer | RTCPeerConnection) for o in gc.get_objects())


@dataclass(frozen=True)
class Snapshot:
    tasks: frozenset["asyncio.Task[object]"]
    threads: tuple[str, ...]
    fds: int
    connections: int

    @classmethod
    def take(cls) -> "Snapshot":
        return cls(
            tasks=frozenset(asyncio.all_tasks()),
            threads=tuple(sorted(own_threads())),
            fds=len(os.listdir("/proc/self/fd")),
            connections=live_connections(),
        )


async def back_to(before: Snapshot) -> None:
    """Wait (up to SETTLE_SECONDS) until tasks, threads and descriptors are as before."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        gc.collect()
        now = Snapshot.take()
        new_tasks = now.tasks - before.tasks
        if (
            not new_tasks
            and now.threads == before.threads
            and now.fds <= before.fds
            and now.connections <= before.connections
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"left behind: {len(new_tasks)} tasks, threads {before.threads} -> "
                f"{now.threads}, descriptors {before.fds} -> {now.fds}, connections in memory "
                f"{before.connections} -> {now.connections}\n"
                + "\n".join(sorted(repr(task.get_coro()) for task in new_tasks))
            )
        await asyncio.sleep(0.2)


class Browsers:
    """Test browsers made for one call or probe, closed together."""

    def __init__(self) -> None:
        self.made: list[Client] = []

    def __call__(self, *args: object, **kwargs: object) -> Client:
        client = Client(*args, **kwargs)  # type: ignore[arg-type]
        self.made.append(client)
        return client

    async def close(self) -> None:
        await asyncio.gather(*(client.close() for client in self.made))
        self.made.clear()


SILENCE = 2.0  # the relay's silence timeout here, so that a vanished browser costs seconds


@pytest.fixture
async def quick_relay() -> AsyncIterator[Relay]:
    relay = Relay(dataclasses.replace(LOOPBACK_CONFIG, silence_timeout_seconds=SILENCE))
    yield relay
    await relay.close()
    assert relay.counters.peer_connections_open == 0


async def one_call(relay: Relay, n: int, new_client: Browsers, *, ending: str) -> None:
    """A call like the web layer makes one: both legs answered, paired, media both ways, ended.

    ending "hangup": web/visits.py's _finish_call (unpair, close both legs), then the pages
    close theirs. "pages_first": the browsers close their connections first (the relay closes
    its legs by itself), then the web layer ends the call. "vanish": the patient's browser goes
    silent (tab killed), the relay reports it failed and closes its leg, then the call ends.
    """
    patient, professional = f"ticket-{n}-patient", f"ticket-{n}-professional"
    a, b = new_client(SolidVideoTrack(200)), new_client(SolidVideoTrack(40))
    relay.pair(patient, professional)
    await join(relay, patient, a)
    await join(relay, professional, b)
    await eventually(lambda: len(a.video_frames) >= 3 and len(b.video_frames) >= 3)
    await eventually(lambda: a.audio_frames >= 5 and b.audio_frames >= 5)
    assert len(await relay.stats()) == 2  # what the panel samples meanwhile
    # each sees the other's picture: patient's bright, professional's dark
    assert all(abs(mean - shown(40)) < 25 for _, _, mean in a.video_frames[-3:])
    assert all(abs(mean - shown(200)) < 25 for _, _, mean in b.video_frames[-3:])
    if ending == "pages_first":
        await new_client.close()
    elif ending == "vanish":
        states: list[str] = []
        relay.on_state_change = lambda peer_id, state: states.append(f"{peer_id} {state}")
        a.vanish()
        await eventually(lambda: f"{patient} failed" in states, 10)
        relay.on_state_change = None
    relay.unpair(patient)
    await relay.close_peer(patient)
    await relay.close_peer(professional)
    await new_client.close()


async def one_probe(relay: Relay, n: int, new_client: Browsers) -> None:
    """A device test: frames measured and looped back, then closed like web/device_tests.py."""
    probe_id = f"probe-{n}"
    client = new_client(SolidVideoTrack(200))
    await client.accept(await relay.answer_probe(probe_id, await client.offer()))

    def measured() -> bool:
        report = relay.probe_report(probe_id)
        return report is not None and report.video is not None and report.video.frames >= 3

    await eventually(measured)
    await eventually(lambda: len(client.video_frames) >= 3)  # the loopback
    assert [s.peer_id for s in await relay.stats()] == [probe_id]
    assert await relay.close_probe(probe_id) is not None
    assert relay.counters.probes_running == 0
    await new_client.close()


async def test_twenty_calls_and_probes_leave_nothing_behind(quick_relay: Relay) -> None:
    relay = quick_relay
    browsers = Browsers()
    # warm-up: one-time allocations (codec contexts, module state, the executor's first workers)
    await one_call(relay, 0, browsers, ending="hangup")
    await one_probe(relay, 0, browsers)
    await asyncio.sleep(1)
    gc.collect()
    before = Snapshot.take()

    for n in range(1, CALLS + 1):
        ending = "vanish" if n % 5 == 0 else "pages_first" if n % 2 == 0 else "hangup"
        await one_call(relay, n, browsers, ending=ending)
        # a leg the relay closes by itself finishes closing in the background
        await eventually(lambda: relay.counters.peer_connections_open == 0, 5)
        await one_probe(relay, n, browsers)
        assert relay.counters.peer_connections_open == 0

    assert relay.counters.real_decoders == 0
    assert await relay.stats() == []
    await back_to(before)
    assert executor_threads() <= EXECUTOR_MAX
