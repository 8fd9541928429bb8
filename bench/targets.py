"""Where a benchmark call's media goes: straight from peer to peer, or through a server process.

A Target connects a Call's two users (bench/peers.py) and names the process whose CPU time and
memory are measured (None for a direct call, where there is no server).
"""

from __future__ import annotations

import abc
import asyncio
from pathlib import Path

import aiohttp

from bench.peers import Call, accept, make_answer, make_offer
from bench.procs import Process


class Target(abc.ABC):
    """Connects calls; process is the server to measure, if any."""

    name: str
    process: Process | None = None

    @abc.abstractmethod
    async def connect(self, call: Call) -> None:
        """Set up both users' connections; returns once every answer is applied."""

    async def disconnect(self, call: Call) -> None:  # noqa: B027 (nothing to do by default)
        """Tell the server the call is over (before the users close their connections)."""

    async def close(self) -> None:  # noqa: B027
        """Stop the server."""


class Direct(Target):
    """Peer to peer: a's connection offers, b's answers; no server in between."""

    name = "direct"

    async def connect(self, call: Call) -> None:
        pc_a, pc_b = call.a.sending_pc(), call.b.sending_pc()
        await accept(pc_a, await make_answer(pc_b, await make_offer(pc_a)))


class CallServerTarget(Target):
    """A bench/serve.py server (Atende's relay or the baseline): both offers in one request."""

    def __init__(self, name: str, process: Process) -> None:
        self.name = name
        self.process = process
        self._http = aiohttp.ClientSession(f"http://127.0.0.1:{process.port}")

    @classmethod
    async def start(cls, kind: str, logs: Path) -> CallServerTarget:
        process = await Process.python(kind, ["bench.serve", kind], logs / f"{kind}.log")
        return cls(kind, process)

    async def connect(self, call: Call) -> None:
        pc_a, pc_b = call.a.sending_pc(), call.b.sending_pc()
        offer_a, offer_b = await asyncio.gather(make_offer(pc_a), make_offer(pc_b))
        body = {"id": call.call_id, "a": offer_a, "b": offer_b}
        async with self._http.post("/calls", json=body) as response:
            response.raise_for_status()
            answers = await response.json()
        await accept(pc_a, answers["a"])
        await accept(pc_b, answers["b"])

    async def disconnect(self, call: Call) -> None:
        async with self._http.delete(f"/calls/{call.call_id}") as response:
            response.raise_for_status()

    async def close(self) -> None:
        await self._http.close()
        if self.process is not None:
            await self.process.stop()
