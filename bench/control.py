"""Control plane: many waiting patients with their queue page open over WebSocket, against the
real application in its own process.

Setup, sped up through the store: patients are written straight into a fresh SQLite store
(bench/webclient.py seed), every patient signs in through the pages (CPF and birth date) and
opens a real WebSocket, then their tickets are written into the store and the professionals'
dashboards connect, which pushes every page its position. (A page that connects while n
patients wait costs the server O(n): connecting 2,000 pages one after another into a full
queue takes minutes, so that cost is measured on a sample: reconnects per second.)

Measured: how long after a take-next every page has its new position, take-nexts per second
(professionals pressing at once), joins per second (new patients registering and accepting
the terms through the pages while everyone waits, each join moving every page).
"""

from __future__ import annotations

import asyncio
import json
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.load import percentile
from bench.procs import CpuMeter, Process
from bench.webclient import SETTINGS, Site, Socket, bounded, enqueue, seed
from tests.support import make_config
from web.config import Config

LOGIN_CONCURRENCY = 16
RECONNECTS = 50
SOCKET_CONCURRENCY = 64
JOIN_CONCURRENCY = 8
UPDATE_TIMEOUT = 60.0


async def _all_updated(pages: list[Socket], since: float) -> bool:
    deadline = time.monotonic() + UPDATE_TIMEOUT
    while any(page.arrived("queue", since) is None for page in pages):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def _prepare(workdir: Path, patients: int, professionals: int) -> Config:
    workdir.mkdir(parents=True, exist_ok=True)
    config = make_config(workdir, **SETTINGS)
    seed(Path(config.database_path), patients, professionals, config.terms.version, waiting=False)
    return config


async def _settle(sockets: list[Socket], quiet: float = 0.5) -> None:
    """Wait until no socket has received anything for `quiet` seconds (pushes in flight done)."""
    while True:
        latest = max((s.messages[-1][0] for s in sockets if s.messages), default=0.0)
        if time.monotonic() - latest >= quiet:
            return
        await asyncio.sleep(0.05)


async def run(
    workdir: Path, logs: Path, *, patients: int, takes: int, burst: int, joins: int
) -> dict[str, Any]:
    professionals = takes + burst
    started = time.monotonic()
    config = _prepare(workdir, patients, professionals)
    seeding = time.monotonic() - started
    server = await Process.python(
        "web", ["bench.serve", "web", str(workdir), json.dumps(SETTINGS)], logs / "web-control.log"
    )
    site = Site(server.port)
    pages: list[Socket] = []
    staff: list[Socket] = []
    result: dict[str, Any] = {"patients": patients, "seed_s": seeding}
    try:
        print(f"  control: {patients} patients sign in", flush=True)
        started = time.monotonic()
        cookies = await bounded(
            LOGIN_CONCURRENCY,
            [partial(site.patient_login, n) for n in range(1, patients + 1)],
        )
        result["sign_ins_per_s"] = patients / (time.monotonic() - started)

        print(f"  control: {patients} queue pages connect", flush=True)
        started = time.monotonic()
        pages = await bounded(
            SOCKET_CONCURRENCY,
            [partial(site.socket, c, "patient") for c in cookies],
        )
        for page in pages:
            await page.wait("hello")
        result["pages_connected_per_s"] = patients / (time.monotonic() - started)

        print(f"  control: {patients} patients join the queue, dashboards open", flush=True)
        await asyncio.to_thread(enqueue, Path(config.database_path))
        logins = await bounded(
            4, [partial(site.professional_login, n) for n in range(professionals)]
        )
        t0 = time.monotonic()
        staff = [await site.socket(cookie, "professional") for cookie, _ in logins]
        if not await _all_updated(pages, t0):
            raise RuntimeError("not every page got its position")
        await _settle([*pages, *staff])  # every dashboard's greeting pushed the queue again
        positions = sorted(page.position or 0 for page in pages)
        result["positions_ok"] = positions == list(range(1, patients + 1))
        result["server_rss_mb"] = server.rss_mb()

        # Pages that reconnect (a refresh, a server restart) while everyone waits.
        print(f"  control: {RECONNECTS} pages reconnect", flush=True)
        again = pages[-RECONNECTS:]
        await asyncio.gather(*(page.close() for page in again))
        started = time.monotonic()
        reopened = await bounded(
            SOCKET_CONCURRENCY,
            [partial(site.socket, c, "patient") for c in cookies[-len(again) :]],
        )
        if not await _all_updated(reopened, started):
            raise RuntimeError("a reconnected page did not get its position")
        result["reconnects_per_s"] = len(again) / (time.monotonic() - started)
        pages[-len(again) :] = reopened

        # One take-next at a time: the time until every waiting page has its new position.
        delays: list[float] = []
        per_take: list[dict[str, float]] = []
        wrong = 0
        server_cpu = CpuMeter(server)
        print(f"  control: {takes} take-nexts, one at a time", flush=True)
        for number in range(takes):
            waiting = [page for page in pages if page.position is not None and page.position > 1]
            before = {id(page): page.position for page in waiting}
            server_cpu.start()
            t0 = time.monotonic()
            await site.take_next(*logins[number])
            answered = time.monotonic() - t0
            if not await _all_updated(waiting, t0):
                raise RuntimeError("a page never got its new position")
            these = []
            for page in waiting:
                found = page.first("queue", t0)
                assert found is not None
                these.append(found[0] - t0)
                wrong += found[1]["position"] != (before[id(page)] or 0) - 1
            delays += these
            per_take.append(
                {
                    "request_ms": 1000 * answered,
                    "p50_ms": 1000 * percentile(these, 0.5),
                    "last_ms": 1000 * max(these),
                    "server_cpu_s": server_cpu.rate() * (time.monotonic() - t0),
                }
            )
            still = {id(page) for page in waiting}
            pages = [page for page in pages if id(page) in still]  # the called one left
            await asyncio.sleep(0.2)
        result["position_update"] = {
            "takes": takes,
            "pages": len(delays) // max(1, takes),
            "p50_ms": 1000 * percentile(delays, 0.50),
            "p99_ms": 1000 * percentile(delays, 0.99),
            "max_ms": 1000 * max(delays) if delays else float("nan"),
            "wrong_positions": wrong,
            "per_take": per_take,
        }

        # Professionals pressing take-next at once.
        print(f"  control: {burst} take-nexts at once", flush=True)
        waiting = [page for page in pages if page.position is not None and page.position > burst]
        t0 = time.monotonic()
        await asyncio.gather(*(site.take_next(*login) for login in logins[takes:]))
        answered = time.monotonic() - t0
        result["takes_per_s"] = burst / answered if answered > 0 else float("nan")
        settled = await _all_updated(waiting, t0)
        result["burst_settled_s"] = (
            max(_last_before(page, time.monotonic()) for page in waiting) - t0
            if settled and waiting
            else None
        )

        # New patients joining through the pages while everyone waits.
        print(f"  control: {joins} patients join through the pages", flush=True)
        t0 = time.monotonic()
        await bounded(
            JOIN_CONCURRENCY,
            [
                partial(site.register_patient, n, config.terms.version)
                for n in range(patients + 1, patients + joins + 1)
            ],
        )
        result["joins"] = joins
        result["joins_per_s"] = joins / (time.monotonic() - t0)
        result["professionals"] = professionals
        return result
    finally:
        await asyncio.gather(*(page.close() for page in [*pages, *staff]))
        await site.close()
        await server.stop()


def _last_before(page: Socket, moment: float) -> float:
    """When the latest queue message before moment arrived."""
    times = [t for t, kind, _ in page.messages if kind == "queue" and t <= moment]
    return max(times) if times else moment
