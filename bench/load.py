"""Running calls against a target and measuring a window of them: server CPU and memory, the
load generator's own CPU, and what arrived (packets lost, frames delivered, bitrate)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.media import Clip
from bench.peers import KINDS, Call, Tally, wait_for
from bench.procs import CpuMeter
from bench.targets import Target

SETUP_CONCURRENCY = 4
MEDIA_TIMEOUT = 20.0

log = logging.getLogger(__name__)
_call_ids = itertools.count(1)


@dataclass(frozen=True)
class Window:
    """One measured stretch of time with calls running (both directions added up).

    server_cpu: CPU seconds per second of the server process (None: no server).
    loadgen_cpu: the same for this process, where every peer runs.
    """

    calls: int
    seconds: float
    server_cpu: float | None
    server_rss_mb: float | None
    loadgen_cpu: float
    audio: Tally
    video: Tally
    worst_video_delivered_percent: float

    @property
    def loss_percent(self) -> float:
        return (self.audio + self.video).loss_percent

    @property
    def delivered_percent(self) -> float:
        return self.video.delivered_percent

    @property
    def video_kbps(self) -> float:
        """Video received per direction of a call, kbit/s."""
        return 8 * self.video.bytes_received / self.seconds / 1000 / (2 * self.calls)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            loss_percent=self.loss_percent,
            delivered_percent=self.delivered_percent,
            video_kbps=self.video_kbps,
        )
        return data


async def open_calls(target: Target, clip: Clip, count: int, *, decode: bool = False) -> list[Call]:
    """count calls through target, media flowing in all of them (RuntimeError if not)."""
    calls = [Call(clip, f"call{next(_call_ids)}", decode=decode) for _ in range(count)]
    limit = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def connect(call: Call) -> None:
        async with limit:
            await target.connect(call)

    try:
        await asyncio.gather(*(connect(call) for call in calls))
        if not await wait_for(lambda: all(call.flowing() for call in calls), MEDIA_TIMEOUT):
            stuck = sum(not call.flowing() for call in calls)
            raise RuntimeError(f"{target.name}: no video in {stuck} of {count} calls")
    except BaseException:
        await close_calls(target, calls)
        raise
    return calls


async def close_calls(target: Target, calls: Sequence[Call]) -> None:
    for call in calls:
        try:
            await target.disconnect(call)
        except Exception as exc:  # the server may be gone already
            log.debug("%s: disconnect failed: %r", target.name, exc)
    await asyncio.gather(*(call.close() for call in calls), return_exceptions=True)


def _tallies(calls: Sequence[Call]) -> dict[str, list[Tally]]:
    return {kind: [user.tally(kind) for call in calls for user in call.users] for kind in KINDS}


async def measure(target: Target, calls: Sequence[Call], seconds: float) -> Window:
    """Watch the running calls for seconds."""
    server = CpuMeter(target.process) if target.process is not None else None
    own = CpuMeter(None)
    before = _tallies(calls)
    if server is not None:
        server.start()
    own.start()
    await asyncio.sleep(seconds)
    after = _tallies(calls)
    server_cpu = server.rate() if server is not None else None
    loadgen_cpu = own.rate()
    deltas = {
        kind: [a - b for a, b in zip(after[kind], before[kind], strict=True)] for kind in KINDS
    }
    return Window(
        calls=len(calls),
        seconds=seconds,
        server_cpu=server_cpu,
        server_rss_mb=target.process.rss_mb() if target.process is not None else None,
        loadgen_cpu=loadgen_cpu,
        audio=sum(deltas["audio"], Tally()),
        video=sum(deltas["video"], Tally()),
        worst_video_delivered_percent=min(t.delivered_percent for t in deltas["video"]),
    )


def alternating(targets: Sequence[Target], rounds: int) -> Iterator[tuple[int, Target]]:
    """(round, target): every target in each round, the order turning by one each round."""
    for number in range(rounds):
        shift = number % len(targets)
        for target in [*targets[shift:], *targets[:shift]]:
            yield number, target


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which this fraction of values lie (nearest rank); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
