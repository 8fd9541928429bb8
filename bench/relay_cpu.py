"""Relay CPU per call: the same calls through each server in turn, several rounds, medians."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bench.load import Window, alternating, close_calls, measure, median, open_calls
from bench.media import Clip
from bench.targets import Target


def _summary(windows: Sequence[Window]) -> dict[str, Any]:
    per_call = [w.server_cpu / w.calls for w in windows if w.server_cpu is not None]
    return {
        "cpu_per_call": median(per_call),
        "cpu_per_call_rounds": per_call,
        "rss_mb": median([w.server_rss_mb for w in windows if w.server_rss_mb is not None]),
        "loadgen_cpu": median([w.loadgen_cpu for w in windows]),
        "loss_percent": max(w.loss_percent for w in windows),
        "delivered_percent": min(w.delivered_percent for w in windows),
        "video_kbps": median([w.video_kbps for w in windows]),
        "windows": [w.as_dict() for w in windows],
    }


async def run(
    targets: Sequence[Target],
    clip: Clip,
    *,
    rounds: int,
    calls: int,
    warmup: float,
    window: float,
) -> dict[str, Any]:
    """Each round runs `calls` calls through every target, the order turning each round."""
    windows: dict[str, list[Window]] = {t.name: [] for t in targets}
    errors: dict[str, list[str]] = {t.name: [] for t in targets}
    for number, target in alternating(targets, rounds):
        print(f"  cpu: round {number + 1}/{rounds}, {target.name}", flush=True)
        try:
            running = await open_calls(target, clip, calls)
        except Exception as exc:
            errors[target.name].append(repr(exc))
            continue
        try:
            await asyncio.sleep(warmup)
            windows[target.name].append(await measure(target, running, window))
        finally:
            await close_calls(target, running)
        await asyncio.sleep(0.5)  # let the server finish closing before the next one
    servers: dict[str, Any] = {}
    for name, measured in windows.items():
        servers[name] = _summary(measured) if measured else {}
        if errors[name]:
            servers[name]["errors"] = errors[name]
    result: dict[str, Any] = {
        "rounds": rounds,
        "calls": calls,
        "warmup_s": warmup,
        "window_s": window,
        "servers": servers,
        "ratios": {},
    }
    atende = servers.get("atende", {}).get("cpu_per_call")
    for other in ("janus", "baseline"):
        theirs = servers.get(other, {}).get("cpu_per_call")
        if atende is not None and theirs:
            result["ratios"][f"atende/{other}"] = atende / theirs
    return result
