"""Processes under test: start one, learn its port, read its CPU time and memory, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """A child process of the harness, watched with psutil (its threads included)."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.name = name
        self.log = log
        self._proc = proc
        self._ps = psutil.Process(proc.pid)
        self.port = 0

    @classmethod
    async def start(
        cls,
        name: str,
        args: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        announces_port: bool = True,
    ) -> Process:
        """Start args (stderr to log); with announces_port, wait for its {"port": N} line."""
        with log.open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if announces_port else err,
                stderr=err,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
            )
        process = cls(name, proc, log)
        if announces_port:
            assert proc.stdout is not None
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                process.port = int(json.loads(line)["port"])
            except (TimeoutError, ValueError, KeyError) as exc:
                await process.stop()
                raise RuntimeError(f"{name} did not start: {tail(log)}") from exc
        return process

    @classmethod
    async def python(cls, name: str, module_args: Sequence[str], log: Path) -> Process:
        """python -m <module_args> with this interpreter."""
        return await cls.start(name, [sys.executable, "-m", *module_args], log)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc.returncode is None

    def cpu_seconds(self) -> float:
        """User + system CPU time so far, every thread included."""
        times = self._ps.cpu_times()
        return float(times.user + times.system)

    def rss_mb(self) -> float:
        return float(self._ps.memory_info().rss) / 2**20

    async def stop(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                await self._proc.wait()
        if self._proc.stdout is not None:
            with contextlib.suppress(Exception):
                await self._proc.stdout.read()


class CpuMeter:
    """CPU seconds per second of wall time of a process (or of this one) over a window."""

    def __init__(self, process: Process | None) -> None:
        self._process = process
        self._own = psutil.Process()
        self._start = (0.0, 0.0)

    def _cpu(self) -> float:
        if self._process is not None:
            return self._process.cpu_seconds()
        times = self._own.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self._start = (time.monotonic(), self._cpu())

    def rate(self) -> float:
        elapsed = time.monotonic() - self._start[0]
        return (self._cpu() - self._start[1]) / elapsed if elapsed > 0 else 0.0


def tail(path: Path, size: int = 2000) -> str:
    """The end of a log file."""
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for Janus, which cannot say)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
