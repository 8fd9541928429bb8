"""The results as tables (Markdown, so bench/README.md can hold them as printed) and the goals
of issue 7, each marked met or not (a benchmark never fails for being slow)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# Issue 7's goals.
CPU_RATIO_GOAL = 1.5  # Atende's CPU per call at most this many times Janus's
ADDED_P50_GOAL_MS = 5.0
ADDED_P99_GOAL_MS = 20.0
CALLS_GOAL = 40
POSITIONS_P99_GOAL_MS = 250.0
MEDIA_GOAL_MS = 1000.0


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(headers), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def cpu_section(cpu: dict[str, Any]) -> str:
    rows = []
    for name, s in cpu["servers"].items():
        rounds = ", ".join(_fmt(v, 3) for v in s.get("cpu_per_call_rounds", []))
        rows.append(
            [
                name,
                _fmt(s.get("cpu_per_call"), 3),
                rounds,
                _fmt(s.get("rss_mb"), 0),
                _fmt(s.get("video_kbps"), 0),
                _fmt(s.get("loss_percent"), 2),
                _fmt(s.get("delivered_percent"), 1),
                _fmt(s.get("loadgen_cpu"), 2),
                "; ".join(s.get("errors", [])) or "",
            ]
        )
    ratios = ", ".join(f"{k} = {v:.2f}" for k, v in cpu["ratios"].items())
    return (
        f"### 1. Relay CPU per call ({cpu['calls']} call, {cpu['rounds']} round(s) of "
        f"{cpu['window_s']:g} s, alternating; median)\n\n"
        + table(
            [
                "server",
                "CPU s/s per call",
                "rounds",
                "RSS MB",
                "video kbit/s recv",
                "loss %",
                "frames %",
                "load-gen CPU",
                "errors",
            ],
            rows,
        )
        + f"\n\nRatios: {ratios or '–'}\n"
    )


def latency_section(latency: dict[str, Any]) -> str:
    rows = []
    for name, p in latency["paths"].items():
        added = p.get("added", {})
        rows.append(
            [
                name,
                _fmt(p["video"]["p50_ms"]),
                _fmt(p["video"]["p99_ms"]),
                _fmt(added.get("video", {}).get("p50_ms")),
                _fmt(added.get("video", {}).get("p99_ms")),
                _fmt(p["audio"]["p50_ms"]),
                _fmt(p["audio"]["p99_ms"]),
                _fmt(added.get("audio", {}).get("p50_ms")),
                _fmt(added.get("audio", {}).get("p99_ms")),
                f"{p['video']['count']}/{p['audio']['count']}",
            ]
        )
    return (
        f"### 2. One-way latency, ms ({latency['rounds']} round(s) of {latency['window_s']:g} s, "
        "both directions; added = minus direct)\n\n"
        + table(
            [
                "path",
                "video p50",
                "video p99",
                "added p50",
                "added p99",
                "audio p50",
                "audio p99",
                "added p50",
                "added p99",
                "frames v/a",
            ],
            rows,
        )
        + "\n"
    )


def capacity_section(capacity: dict[str, Any]) -> str:
    rows = [
        [
            s["calls"],
            "yes" if s["passed"] else "no",
            _fmt(s.get("loss_percent"), 2),
            _fmt(s.get("delivered_percent"), 1),
            _fmt(s.get("worst_video_delivered_percent"), 1),
            _fmt(s.get("server_cpu"), 2),
            _fmt(s.get("loadgen_cpu"), 2),
            _fmt(s.get("server_rss_mb"), 0),
            ", ".join(s.get("saturated", [])) or s.get("error", ""),
        ]
        for s in capacity["steps"]
    ]
    limit = " (the search's last step: more may fit)" if capacity["search_limit_reached"] else ""
    text = (
        f"### 3. Capacity ({capacity['server']}; loss < "
        f"{capacity['criteria']['max_loss_percent']}%, frames ≥ "
        f"{capacity['criteria']['min_delivered_percent']}%)\n\n"
        + table(
            [
                "calls",
                "ok",
                "loss %",
                "frames %",
                "worst call %",
                "relay CPU",
                "load-gen CPU",
                "relay RSS MB",
                "saturated",
            ],
            rows,
        )
        + f"\n\nMost calls: **{capacity['max_calls']}**{limit}; memory per call "
        f"{_fmt(capacity['memory_per_call_mb'], 2)} MB "
        f"(idle relay {_fmt(capacity['idle_rss_mb'], 0)} MB)\n"
    )
    if "cpu_bound_estimate_calls" in capacity:
        text += (
            f"\nIts CPU alone would allow about **{capacity['cpu_bound_estimate_calls']}** calls: "
            f"{_fmt(capacity['cpu_fixed'], 3)} + {_fmt(capacity['cpu_per_added_call'], 3)} CPU "
            f"s/s per call (fitted over the good steps) fills {capacity['cores']} core(s).\n"
        )
    prof = capacity.get("profile")
    if prof and prof.get("self"):
        text += (
            f"\nRelay profile (py-spy --gil, {prof['calls']} calls: the GIL was held "
            f"{_fmt(prof['gil_held_percent'], 0)}% of the time), share of the GIL-holding samples "
            "by kind of work (own time), then the top functions:\n\n"
            + table(["work", "% of samples"], [[c, _fmt(p)] for c, p in prof["categories"]])
            + "\n\n"
            + table(["function", "% of samples"], [[f, _fmt(p)] for f, p in prof["self"][:10]])
            + "\n"
        )
    return text


def control_section(control: dict[str, Any]) -> str:
    update = control["position_update"]
    rows = [
        ["waiting pages", control["patients"]],
        ["sign-ins per s (CPF + birth date pages)", _fmt(control["sign_ins_per_s"])],
        ["pages connected per s (before the queue fills)", _fmt(control["pages_connected_per_s"])],
        [
            f"pages reconnecting per s with {control['patients']} waiting",
            _fmt(control.get("reconnects_per_s")),
        ],
        ["positions after connect 1..n", "yes" if control["positions_ok"] else "NO"],
        [
            f"position update after a take-next, p50 ms ({update['takes']} takes)",
            _fmt(update["p50_ms"]),
        ],
        ["position update, p99 ms", _fmt(update["p99_ms"])],
        ["position update, max ms", _fmt(update["max_ms"])],
        ["wrong positions", update["wrong_positions"]],
        [
            f"take-nexts per s ({control['professionals'] - update['takes']} at once)",
            _fmt(control["takes_per_s"]),
        ],
        ["joins per s (registration + terms pages)", _fmt(control["joins_per_s"])],
        ["server RSS MB with every page open", _fmt(control["server_rss_mb"], 0)],
    ]
    return "### 4. Control plane\n\n" + table(["measure", "value"], rows) + "\n"


def ttm_section(ttm: dict[str, Any]) -> str:
    rows = [
        [i + 1, _fmt(s["patient"], 0), _fmt(s["professional"], 0)]
        for i, s in enumerate(ttm["samples_ms"])
    ]
    return (
        "### 5. Time to media, take-next to first decoded remote frame, ms\n\n"
        + table(["visit", "patient", "professional"], rows)
        + f"\n\nBoth sides: p50 {_fmt(ttm['both_p50_ms'], 0)} ms, "
        f"max {_fmt(ttm['both_max_ms'], 0)} ms\n"
    )


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of issue 7: what was measured and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []

    def add(goal: str, measured: str, met: bool | None) -> None:
        out.append({"goal": goal, "measured": measured, "met": met})

    ratio = results.get("cpu", {}).get("ratios", {}).get("atende/janus")
    add(
        f"relay CPU per call ≤ {CPU_RATIO_GOAL}× Janus",
        f"{ratio:.2f}×" if ratio else "–",
        None if ratio is None else ratio <= CPU_RATIO_GOAL,
    )
    added = results.get("latency", {}).get("paths", {}).get("atende", {}).get("added")
    if added:
        p50 = max(added[k]["p50_ms"] for k in ("video", "audio"))
        p99 = max(added[k]["p99_ms"] for k in ("video", "audio"))
        add(
            f"added latency p50 ≤ {ADDED_P50_GOAL_MS:g} ms, p99 ≤ {ADDED_P99_GOAL_MS:g} ms",
            "video +{:.1f}/+{:.1f} ms, audio +{:.1f}/+{:.1f} ms (p50/p99)".format(
                added["video"]["p50_ms"],
                added["video"]["p99_ms"],
                added["audio"]["p50_ms"],
                added["audio"]["p99_ms"],
            ),
            p50 <= ADDED_P50_GOAL_MS and p99 <= ADDED_P99_GOAL_MS,
        )
    else:
        add(
            f"added latency p50 ≤ {ADDED_P50_GOAL_MS:g} ms, p99 ≤ {ADDED_P99_GOAL_MS:g} ms",
            "–",
            None,
        )
    capacity = results.get("capacity")
    estimate = capacity.get("cpu_bound_estimate_calls") if capacity else None
    add(
        f"≥ {CALLS_GOAL} concurrent calls",
        (f"{capacity['max_calls']}" + (f" (~{estimate} by its CPU)" if estimate else ""))
        if capacity
        else "–",
        None if capacity is None else capacity["max_calls"] >= CALLS_GOAL,
    )
    control = results.get("control")
    p99_update = control["position_update"]["p99_ms"] if control else None
    add(
        f"every position updated within {POSITIONS_P99_GOAL_MS:g} ms p99",
        f"{p99_update:.0f} ms ({control['patients']} pages)" if control and p99_update else "–",
        None if p99_update is None else p99_update <= POSITIONS_P99_GOAL_MS,
    )
    ttm = results.get("time_to_media")
    add(
        f"media within {MEDIA_GOAL_MS:g} ms of take-next",
        f"max {ttm['both_max_ms']:.0f} ms" if ttm else "–",
        None if ttm is None else ttm["both_max_ms"] <= MEDIA_GOAL_MS,
    )
    return out


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    parts = [
        f"## Results, {meta['date']} ({meta['mode']} run)\n\n"
        f"Command: `{meta['command']}`  \n"
        f"Machine: {meta['machine']}  \n"
        f"Load average before the run: {meta['load_before']}; "
        f"after: {meta.get('load_after', '–')}\n"
    ]
    sections = (
        ("cpu", cpu_section),
        ("latency", latency_section),
        ("capacity", capacity_section),
        ("capacity_janus", capacity_section),
        ("control", control_section),
        ("time_to_media", ttm_section),
    )
    for key, section in sections:
        if key in results:
            parts.append(section(results[key]))
        elif key in results.get("errors", {}):
            parts.append(f"### {key}: failed: {results['errors'][key]}\n")
    rows = [
        [g["goal"], g["measured"], {True: "met", False: "NOT met", None: "–"}[g["met"]]]
        for g in results.get("goals", [])
    ]
    parts.append("### Goals (issue 7)\n\n" + table(["goal", "measured", ""], rows) + "\n")
    return "\n".join(parts)
