"""Prometheus exposition at /metrics: the queue, calls, waits, ratings and the media relay."""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from web.device_check import Level
from web.identity import caller
from web.keys import CONFIG, METRICS
from web.monitor import Monitor
from web.queue import State
from web.store import Store
from web.text import _
from web.visits import Visits

WAIT_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
DURATION_BUCKETS = (60, 180, 300, 600, 900, 1200, 1800, 3600)


def histogram(
    db: sqlite3.Connection, name: str, doc: str, value: str, where: str, bounds: Sequence[float]
) -> HistogramMetricFamily:
    """A histogram of `value` over the tickets matching `where`, counted by SQLite (the history
    can be long: no row comes into Python)."""
    counts = ", ".join(f"COALESCE(SUM({value} <= {float(b)!r}), 0)" for b in bounds)
    row = db.execute(
        f"SELECT {counts}, COUNT(*), COALESCE(SUM({value}), 0) FROM tickets WHERE {where}"  # noqa: S608
    ).fetchone()
    buckets = [(str(float(b)), row[i]) for i, b in enumerate(bounds)]
    buckets.append(("+Inf", row[len(bounds)]))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=row[len(bounds) + 1])


def history(db: sqlite3.Connection) -> list[Metric]:
    """Waits, durations, ratings and device-test verdicts over all the history."""
    metrics: list[Metric] = [
        histogram(
            db, "atende_wait_seconds", "Time from arrival to being called",
            "called_at - arrived_at", "called_at IS NOT NULL", WAIT_BUCKETS,
        ),
        histogram(
            db, "atende_call_duration_seconds", "Duration of calls that took place",
            "ended_at - started_at",
            f"state = '{State.ENDED.value}' AND started_at IS NOT NULL AND ended_at IS NOT NULL",
            DURATION_BUCKETS,
        ),
    ]  # fmt: skip
    ratings = CounterMetricFamily("atende_ratings", "Ratings given, by stars", labels=["stars"])
    counts = dict(
        db.execute(
            "SELECT rating, COUNT(*) FROM tickets WHERE rating IS NOT NULL GROUP BY rating"
        ).fetchall()
    )
    for stars in range(1, 6):
        ratings.add_metric([str(stars)], counts.get(stars, 0))
    metrics.append(ratings)
    verdicts = CounterMetricFamily(
        "atende_device_test_verdicts",
        "Device-test verdicts given, by item (camera, microphone, network) and level",
        labels=["item", "level"],
    )
    rows = db.execute(
        "SELECT json_extract(v.value, '$.item'), json_extract(v.value, '$.level'), COUNT(*)"
        " FROM device_tests, json_each(device_tests.verdicts) AS v GROUP BY 1, 2"
    ).fetchall()
    found = {(item, level): count for item, level, count in rows}
    for item in ("camera", "microphone", "network"):
        for level in Level:
            verdicts.add_metric([item, level.value], found.get((item, level.value), 0))
    metrics.append(verdicts)
    return metrics


class AtendeCollector(Collector):
    """The live figures (queue, professionals, relay) at every scrape, and the history as last
    read by refresh(), which scans the database off the event loop."""

    def __init__(self, store: Store, visits: Visits, monitor: Monitor) -> None:
        self.store = store
        self.visits = visits
        self.monitor = monitor
        self.history: list[Metric] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, memory, open fds

    async def refresh(self) -> None:
        self.history = await self.store.read(history)

    def collect(self) -> Iterator[Metric]:
        yield from self._queue()
        yield from self.history
        yield from self._relay()

    def _queue(self) -> Iterable[Metric]:
        counts = dict(
            self.store.db.execute(
                "SELECT state, COUNT(*) FROM tickets WHERE state IN (?, ?, ?) GROUP BY state",
                (State.WAITING, State.CALLED, State.IN_CALL),
            ).fetchall()
        )
        yield GaugeMetricFamily(
            "atende_queue_waiting", "Patients waiting now", value=counts.get(State.WAITING, 0)
        )
        calls = GaugeMetricFamily("atende_calls_active", "Calls now, by state", labels=["state"])
        calls.add_metric(["called"], counts.get(State.CALLED, 0))
        calls.add_metric(["in_call"], counts.get(State.IN_CALL, 0))
        yield calls
        online, available = self.visits.professionals_online()
        pros = GaugeMetricFamily(
            "atende_professionals", "Professionals with the list open", labels=["availability"]
        )
        pros.add_metric(["available"], available)
        pros.add_metric(["paused"], online - available)
        yield pros

    def _relay(self) -> Iterable[Metric]:
        counters = self.visits.relay.counters
        yield CounterMetricFamily(
            "atende_relay_frames_forwarded",
            "Encoded frames and audio packets forwarded without transcoding",
            value=counters.packets_forwarded,
        )
        yield CounterMetricFamily(
            "atende_relay_frames_transcoded",
            "Frames decoded and encoded anew because the two browsers share no codec",
            value=counters.frames_transcoded,
        )
        yield CounterMetricFamily(
            "atende_relay_keyframe_requests",
            "Keyframe requests passed upstream to a sending browser",
            value=counters.keyframe_requests_forwarded,
        )
        yield GaugeMetricFamily(
            "atende_relay_peer_connections", "Open WebRTC connections",
            value=counters.peer_connections_open,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "atende_device_tests_running", "Device tests running", value=counters.probes_running
        )
        snapshot = self.monitor.latest
        if snapshot is None:
            return
        bitrate = GaugeMetricFamily(
            "atende_relay_bitrate_kbps", "Media bitrate summed over connections",
            labels=["kind", "direction"],
        )  # fmt: skip
        loss = GaugeMetricFamily(
            "atende_relay_packet_loss_percent", "Packet loss, mean over connections",
            labels=["kind", "direction"],
        )  # fmt: skip
        jitter = GaugeMetricFamily(
            "atende_relay_jitter_ms", "Jitter of received media, mean over connections",
            labels=["kind"],
        )  # fmt: skip
        rtt = GaugeMetricFamily(
            "atende_relay_round_trip_ms", "Round trip to browsers, mean over connections"
        )
        groups: dict[tuple[str, str], list[tuple[float, float, float | None]]] = {}
        rtts: list[float] = []
        for peer in snapshot.peers:
            for d in peer.directions:
                groups.setdefault((d.kind, d.direction), []).append(
                    (d.bitrate_kbps, d.loss_percent, d.jitter_ms)
                )
                if d.rtt_ms is not None:
                    rtts.append(d.rtt_ms)
        for (kind, direction), values in sorted(groups.items()):
            bitrate.add_metric([kind, direction], sum(v[0] for v in values))
            loss.add_metric([kind, direction], sum(v[1] for v in values) / len(values))
            jitters = [v[2] for v in values if v[2] is not None]
            if direction == "in" and jitters:
                jitter.add_metric([kind], sum(jitters) / len(jitters))
        yield bitrate
        yield loss
        yield jitter
        if rtts:
            rtt.add_metric([], sum(rtts) / len(rtts))
            yield rtt


async def metrics_view(request: web.Request) -> web.Response:
    settings = request.app[CONFIG].metrics
    auth = request.headers.get("Authorization", "")
    token_ok = bool(settings.token) and hmac.compare_digest(
        auth.encode("utf-8", "surrogateescape"), f"Bearer {settings.token}".encode()
    )  # bytes: a non-ASCII header is simply not the token
    address_ok = request.remote in settings.allowed_addresses
    if not (token_ok or address_ok or (await caller(request)).admin is not None):
        raise web.HTTPForbidden(text=_("Acesso às métricas não permitido."))
    collector = request.app[METRICS]
    await collector.refresh()
    body = generate_latest(collector.registry)
    return web.Response(body=body, content_type="text/plain", charset="utf-8")
