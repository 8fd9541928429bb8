"""Periodic samples of the media relay's and this process's statistics (for panel and /metrics)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import psutil

from relay.relay import Relay
from relay.stats import PeerStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessStats:
    cpu_percent: float  # of one core, since the previous sample
    memory_mb: float  # resident set size
    threads: int
    peer_connections: int
    probes_running: int


@dataclass(frozen=True)
class Snapshot:
    at: float
    process: ProcessStats
    peers: tuple[PeerStats, ...]


class Monitor:
    """Samples every `interval` seconds; `latest` is the newest sample (None before the first)."""

    def __init__(self, relay: Relay, interval: float) -> None:
        self.relay = relay
        self.interval = interval
        self.latest: Snapshot | None = None
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first reading only starts the clock

    async def sample(self) -> Snapshot:
        peers = tuple(await self.relay.stats())
        counters = self.relay.counters
        with self._process.oneshot():
            process = ProcessStats(
                cpu_percent=self._process.cpu_percent(None),
                memory_mb=round(self._process.memory_info().rss / 2**20, 1),
                threads=self._process.num_threads(),
                peer_connections=counters.peer_connections_open,
                probes_running=counters.probes_running,
            )
        self.latest = Snapshot(at=time.time(), process=process, peers=peers)
        return self.latest

    async def run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:  # a failed sample must not stop the next ones
                log.exception("monitor: sampling failed")
            await asyncio.sleep(self.interval)
