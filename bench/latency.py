"""Added one-way latency: one call at a time, decoded at the receivers, every frame timed by the
code it carries (bench/media.py), through each server and peer to peer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bench.load import alternating, close_calls, open_calls, percentile
from bench.media import Clip
from bench.peers import KINDS
from bench.targets import Target


def _stats(delays: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(delays),
        "p50_ms": 1000 * percentile(delays, 0.50),
        "p99_ms": 1000 * percentile(delays, 0.99),
    }


async def run(
    targets: Sequence[Target],
    clip: Clip,
    *,
    rounds: int,
    warmup: float,
    window: float,
) -> dict[str, Any]:
    """targets should include Direct (named "direct"), the reference for "added"."""
    delays: dict[str, dict[str, list[float]]] = {t.name: {k: [] for k in KINDS} for t in targets}
    errors: dict[str, list[str]] = {t.name: [] for t in targets}
    for number, target in alternating(targets, rounds):
        print(f"  latency: round {number + 1}/{rounds}, {target.name}", flush=True)
        try:
            calls = await open_calls(target, clip, 1, decode=True)
        except Exception as exc:
            errors[target.name].append(repr(exc))
            continue
        try:
            await asyncio.sleep(warmup)
            for user in calls[0].users:
                user.clear_delays()
            await asyncio.sleep(window)
            for user in calls[0].users:
                for kind, reception in user.received.items():
                    delays[target.name][kind] += reception.delays
        finally:
            await close_calls(target, calls)
        await asyncio.sleep(0.5)
    paths: dict[str, Any] = {}
    for name, by_kind in delays.items():
        paths[name] = {kind: _stats(values) for kind, values in by_kind.items()}
        if errors[name]:
            paths[name]["errors"] = errors[name]
    direct = paths.get("direct")
    if direct is not None:
        for name, path in paths.items():
            if name == "direct":
                continue
            path["added"] = {
                kind: {
                    "p50_ms": path[kind]["p50_ms"] - direct[kind]["p50_ms"],
                    "p99_ms": path[kind]["p99_ms"] - direct[kind]["p99_ms"],
                }
                for kind in KINDS
            }
    return {"rounds": rounds, "warmup_s": warmup, "window_s": window, "paths": paths}
