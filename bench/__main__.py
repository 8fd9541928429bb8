"""Run the benchmarks: python -m bench [--quick | --smoke] [--only ...] [--output FILE].

Prints the results as Markdown tables and writes every figure as JSON (default:
bench/out/results-<date>.json, logs beside it). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiortc
import psutil

from bench import capacity, control, latency, relay_cpu, report, ttm
from bench.janus import JanusTarget
from bench.media import load_clip
from bench.targets import CallServerTarget, Direct, Target

PHASES = ("cpu", "latency", "capacity", "control", "ttm")
OUT = Path(__file__).resolve().parent / "out"


@dataclass(frozen=True)
class Mode:
    clip_seconds: float
    cpu_rounds: int
    cpu_warmup: float
    cpu_window: float
    latency_rounds: int
    latency_warmup: float
    latency_window: float
    capacity_steps: tuple[int, ...]
    capacity_warmup: float
    capacity_window: float
    profile_seconds: float
    patients: int
    takes: int
    burst: int
    joins: int
    visits: int
    capacity_servers: tuple[str, ...] = ("atende",)


MODES = {
    "full": Mode(
        clip_seconds=10,
        cpu_rounds=3,
        cpu_warmup=3,
        cpu_window=10,
        latency_rounds=2,
        latency_warmup=2,
        latency_window=10,
        capacity_steps=(2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 30, 40, 50, 60),
        capacity_warmup=3,
        capacity_window=10,
        profile_seconds=10,
        patients=2000,
        takes=10,
        burst=10,
        joins=30,
        visits=5,
        capacity_servers=("atende", "janus"),
    ),
    "quick": Mode(
        clip_seconds=10,
        cpu_rounds=1,
        cpu_warmup=1.5,
        cpu_window=3,
        latency_rounds=1,
        latency_warmup=1.5,
        latency_window=3,
        capacity_steps=(2, 4, 6),
        capacity_warmup=1.5,
        capacity_window=3,
        profile_seconds=0,
        patients=200,
        takes=3,
        burst=5,
        joins=20,
        visits=2,
    ),
    "smoke": Mode(
        clip_seconds=2,
        cpu_rounds=1,
        cpu_warmup=0.5,
        cpu_window=1,
        latency_rounds=1,
        latency_warmup=0.5,
        latency_window=1,
        capacity_steps=(1,),
        capacity_warmup=0.5,
        capacity_window=1,
        profile_seconds=0,
        patients=20,
        takes=2,
        burst=2,
        joins=2,
        visits=1,
    ),
}


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, aiortc {aiortc.__version__}"
    )


def janus_version() -> str | None:
    binary = shutil.which("janus")
    if binary is None:
        return None
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    return done.stdout.splitlines()[0] if done.stdout else None


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def _target(name: str, logs: Path, workdir: Path) -> Target | None:
    if name == "direct":
        return Direct()
    if name == "janus":
        return await JanusTarget.start(workdir / "janus", logs)
    return await CallServerTarget.start(name, logs)


async def _targets(names: list[str], logs: Path, workdir: Path) -> list[Target]:
    """The targets, started at once (None left out: Janus could not be had)."""
    started = await asyncio.gather(
        *(_target(name, logs, workdir) for name in names), return_exceptions=True
    )
    targets = [target for target in started if isinstance(target, Target)]
    for failure in started:
        if isinstance(failure, BaseException):
            for target in targets:
                await target.close()
            raise failure
    return targets


async def run(args: argparse.Namespace) -> dict[str, Any]:
    mode = MODES[args.mode]
    phases = [p for p in PHASES if p in args.only and p not in args.skip]
    servers = [s for s in ("atende", "baseline", "janus") if s in args.servers]
    logs = args.output.parent / args.output.stem
    logs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="atende-bench-"))
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": args.mode,
            "command": os.environ.get("BENCH_COMMAND")
            or shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
            "machine": machine(),
            "janus": None,
            "load_before": _load(),
            "phases": phases,
            "logs": str(logs),
        },
        "errors": {},
    }
    started = time.monotonic()
    try:
        clip = load_clip(mode.clip_seconds)
        results["meta"]["clip_video_kbps"] = clip.video_bitrate / 1000
        targets: list[Target] = []
        if "cpu" in phases or "latency" in phases:
            targets = await _targets(servers, logs, workdir)
            results["meta"]["janus"] = janus_version() if "janus" in servers else None
        try:
            if "cpu" in phases:
                print("relay CPU per call", flush=True)
                results["cpu"] = await relay_cpu.run(
                    targets,
                    clip,
                    rounds=mode.cpu_rounds,
                    calls=1,
                    warmup=mode.cpu_warmup,
                    window=mode.cpu_window,
                )
            if "latency" in phases:
                print("latency", flush=True)
                results["latency"] = await latency.run(
                    [Direct(), *targets],
                    clip,
                    rounds=mode.latency_rounds,
                    warmup=mode.latency_warmup,
                    window=mode.latency_window,
                )
        finally:
            for target in targets:
                await target.close()
        if "capacity" in phases:
            for name in [s for s in ("atende", "janus") if s in args.capacity_servers]:
                print(f"capacity: {name}", flush=True)
                key = "capacity" if name == "atende" else f"capacity_{name}"
                try:
                    found = await _targets([name], logs, workdir)
                    if not found:
                        continue
                    results[key] = await capacity.run(
                        found[0],
                        logs,
                        clip,
                        steps=mode.capacity_steps,
                        warmup=mode.capacity_warmup,
                        window=mode.capacity_window,
                        profile_seconds=0
                        if args.no_profile or name != "atende"
                        else mode.profile_seconds,
                        cores=1 if name == "atende" else os.cpu_count() or 1,
                    )
                except Exception as exc:
                    results["errors"][key] = _failure(exc)
        if "control" in phases:
            print("control plane", flush=True)
            try:
                results["control"] = await control.run(
                    workdir / "control",
                    logs,
                    patients=args.patients or mode.patients,
                    takes=mode.takes,
                    burst=mode.burst,
                    joins=mode.joins,
                )
            except Exception as exc:
                results["errors"]["control"] = _failure(exc)
        if "ttm" in phases:
            print("time to media", flush=True)
            try:
                results["time_to_media"] = await ttm.run(
                    workdir / "ttm", logs, clip, visits=mode.visits
                )
            except Exception as exc:
                results["errors"]["ttm"] = _failure(exc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["seconds"] = time.monotonic() - started
    results["meta"]["load_after"] = _load()
    results["goals"] = report.goals(results)
    return results


def _finite(value: Any) -> Any:
    """The results with NaN (nothing measured) as null, so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _failure(exc: BaseException) -> str:
    traceback.print_exception(exc)
    return repr(exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="short windows, one round, fewer pages: under 2 minutes",
    )
    group.add_argument(
        "--smoke",
        dest="mode",
        action="store_const",
        const="smoke",
        help="the shortest run that exercises the code (the test suite's)",
    )
    parser.set_defaults(mode="full")
    parser.add_argument(
        "--only", default=",".join(PHASES), help=f"comma-separated phases of {','.join(PHASES)}"
    )
    parser.add_argument("--skip", default="", help="comma-separated phases to leave out")
    parser.add_argument(
        "--servers", default="atende,baseline,janus", help="servers for the cpu and latency phases"
    )
    parser.add_argument(
        "--capacity-servers",
        default="",
        help="servers whose capacity is searched: atende and (full run) janus, which tells "
        "whether the limit is the load generator's",
    )
    parser.add_argument("--patients", type=int, default=0, help="waiting pages (control phase)")
    parser.add_argument("--no-profile", action="store_true", help="do not run py-spy")
    parser.add_argument("--output", type=Path, help="JSON file (logs go beside it)")
    args = parser.parse_args(argv)
    args.only = {p.strip() for p in args.only.split(",") if p.strip()}
    args.skip = {p.strip() for p in args.skip.split(",") if p.strip()}
    args.servers = {s.strip() for s in args.servers.split(",") if s.strip()}
    args.capacity_servers = {s.strip() for s in args.capacity_servers.split(",") if s.strip()}
    args.capacity_servers = args.capacity_servers or set(MODES[args.mode].capacity_servers)
    if args.output is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.output = OUT / f"results-{args.mode}-{stamp}.json"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args))
    args.output.write_text(json.dumps(_finite(results), indent=1, default=str) + "\n")
    print()
    print(report.render(results))
    print(f"JSON: {args.output}")
    print(f"took {results['meta']['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
