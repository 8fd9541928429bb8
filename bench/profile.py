"""Where a server process spends its time: py-spy (when installed) samples it from outside, and
the samples are summed per function (self time: the function on top of the stack; total: the
function anywhere on it).

Only the thread holding the GIL is sampled (py-spy --gil): a Python relay can use one core's
worth of Python at most, so that is the time that runs out. Work in C that releases the GIL
(parts of SRTP and of the socket calls) is undercounted.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

TOP = 15
RATE = 100  # samples per second
# Where a sample's own time goes, by the file of the function on top of the stack (first match).
CATEGORIES = (
    ("hand-off to aiortc's decoder threads (queue.Queue, threading)", ("threading.py", "queue.py")),
    ("SRTP/SRTCP protect and unprotect (pylibsrtp)", ("pylibsrtp",)),
    ("UDP sockets (asyncio datagram transport)", ("selector_events.py",)),
    ("asyncio event loop, tasks, queues", ("asyncio/",)),
    ("aiortc: RTP/RTCP, jitter buffer, packetizing, DTLS", ("aiortc/",)),
    ("aioice: ICE, STUN", ("aioice/",)),
    ("Atende's relay/ code", ("relay/",)),
)


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def summarize(raw: str) -> dict[str, Any]:
    """py-spy's raw (collapsed stack) output: samples, and the top functions by self and by
    total share of the samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame.strip() for frame in stack.split(";") if frame.strip()]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    categories: Counter[str] = Counter()
    for frame, count in own.items():
        where = frame.rpartition("(")[2]
        name = next((c for c, marks in CATEGORIES if any(m in where for m in marks)), "other")
        categories[name] += count
    return {
        "samples": samples,
        "categories": [(c, 100.0 * n / samples) for c, n in categories.most_common()]
        if samples
        else [],
        "self": [(f, 100.0 * n / samples) for f, n in own.most_common(TOP)] if samples else [],
        "total": [(f, 100.0 * n / samples) for f, n in total.most_common(TOP)] if samples else [],
    }


async def record(pid: int, seconds: float, output: Path) -> dict[str, Any] | None:
    """Sample pid for seconds into output (raw format); the summary, or None without py-spy."""
    binary = py_spy()
    if binary is None:
        return None
    process = await asyncio.create_subprocess_exec(
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--nolineno",
        "--nonblocking",
        "--gil",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        return {"error": err.decode(errors="replace")[-500:]}
    return _summarize_file(output, max(1, round(seconds)))


def _summarize_file(output: Path, seconds: int) -> dict[str, Any]:
    try:
        summary = summarize(output.read_text(errors="replace"))
    except OSError as exc:
        return {"error": repr(exc)}
    summary["file"] = str(output)
    summary["gil_held_percent"] = 100.0 * summary["samples"] / (RATE * seconds)
    return summary
