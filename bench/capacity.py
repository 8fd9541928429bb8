"""Capacity: calls are added to one relay process step by step until a step loses 0.5% of its
packets or delivers under 95% of its video frames; memory per call from the last good step.

Every peer runs in this (the harness's) process, so on a 2-core machine the load generator
needs a core too: each step says which side was saturated.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import profile
from bench.load import close_calls, measure, open_calls
from bench.media import Clip
from bench.peers import Call
from bench.targets import Target

MAX_LOSS_PERCENT = 0.5
MIN_DELIVERED_PERCENT = 95.0
SATURATED = 0.9  # CPU seconds per second: one core (both sides are single-threaded Python)


async def run(
    target: Target,
    logs: Path,
    clip: Clip,
    *,
    steps: Sequence[int],
    warmup: float,
    window: float,
    profile_seconds: float = 0.0,
    cores: int = 1,
) -> dict[str, Any]:
    """Search with a freshly started target (closed at the end); py-spy on it when
    profile_seconds > 0 (a Python server). cores: how many cores the server can use (one for
    a Python relay: the GIL), for the estimate of the calls its CPU alone would allow."""
    assert target.process is not None
    await asyncio.sleep(1.0)
    idle_rss = target.process.rss_mb()
    calls: list[Call] = []
    results: list[dict[str, Any]] = []
    try:
        for count in steps:
            print(f"  capacity: {count} calls", flush=True)
            try:
                calls += await open_calls(target, clip, count - len(calls))
            except RuntimeError as exc:
                results.append({"calls": count, "passed": False, "error": str(exc)})
                break
            await asyncio.sleep(warmup)
            measured = await measure(target, calls, window)
            passed = (
                measured.loss_percent < MAX_LOSS_PERCENT
                and measured.delivered_percent >= MIN_DELIVERED_PERCENT
            )
            sides = (("relay", measured.server_cpu), ("load generator", measured.loadgen_cpu))
            bound = [side for side, cpu in sides if cpu is not None and cpu >= SATURATED]
            results.append({**measured.as_dict(), "passed": passed, "saturated": bound})
            if not passed:
                break
        good = [r for r in results if r["passed"]]
        best = good[-1] if good else None
        result: dict[str, Any] = {
            "server": target.name,
            "criteria": {
                "max_loss_percent": MAX_LOSS_PERCENT,
                "min_delivered_percent": MIN_DELIVERED_PERCENT,
            },
            "idle_rss_mb": idle_rss,
            "steps": results,
            "max_calls": best["calls"] if best else 0,
            "search_limit_reached": bool(results) and results[-1]["passed"],
            "memory_per_call_mb": (
                (best["server_rss_mb"] - idle_rss) / best["calls"] if best else None
            ),
        }
        result.update(_estimate(good, cores))
        if profile_seconds > 0 and profile.py_spy() is not None:
            result["profile"] = await _profile(target, clip, calls, best, logs, profile_seconds)
        return result
    finally:
        await close_calls(target, calls)
        await target.close()


def _estimate(good: list[dict[str, Any]], cores: int) -> dict[str, Any]:
    """The server's CPU per added call (least squares over the good steps) and the calls that
    would fill its cores, were the load generator not in the way."""
    points = [(s["calls"], s["server_cpu"]) for s in good if s.get("server_cpu") is not None]
    if len({calls for calls, _ in points}) < 2:
        return {}
    slope, intercept = statistics.linear_regression(*zip(*points, strict=True))
    if slope <= 0:
        return {}
    return {
        "cpu_per_added_call": slope,
        "cpu_fixed": intercept,
        "cores": cores,
        "cpu_bound_estimate_calls": int((cores - max(0.0, intercept)) / slope),
    }


async def _profile(
    target: Target,
    clip: Clip,
    calls: list[Call],
    best: dict[str, Any] | None,
    logs: Path,
    seconds: float,
) -> dict[str, Any] | None:
    """py-spy on the relay with the last good step's calls running (at least two)."""
    assert target.process is not None
    wanted = max(2, best["calls"] if best else 2)
    extra = calls[wanted:]
    del calls[wanted:]
    await close_calls(target, extra)
    if len(calls) < wanted:
        calls += await open_calls(target, clip, wanted - len(calls))
    await asyncio.sleep(2.0)
    print(f"  capacity: profiling the relay with {wanted} calls", flush=True)
    summary = await profile.record(target.process.pid, seconds, logs / "relay-profile.txt")
    if summary is not None:
        summary["calls"] = wanted
    return summary
