"""The servers under test, each run in a process of its own by the harness.

    python -m bench.serve atende     Atende's relay (relay.relay.Relay), as the web app uses it
    python -m bench.serve baseline   a naive aiortc server: aiortc.contrib.media.MediaRelay,
                                     every frame decoded and encoded again for the other side
    python -m bench.serve web DIR SETTINGS_JSON
                                     the real application (web.app.create_app) with the test
                                     config of tests/support.py under DIR, SETTINGS_JSON merged

The two relays take calls over a small HTTP API on 127.0.0.1: POST /calls {"id", "a", "b"}
(two offers) answers {"a", "b"}; DELETE /calls/{id} ends one. Each server prints one JSON line,
{"port": N}, once it listens, and stops on SIGTERM.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from relay.aiortc_hooks import gather_on, install
from relay.config import RelayConfig
from relay.relay import Relay

LOOPBACK = ("127.0.0.1",)


class CallServer(abc.ABC):
    """Joins two offers into a call."""

    @abc.abstractmethod
    async def open(self, call_id: str, offer_a: str, offer_b: str) -> tuple[str, str]:
        """Answer both offers; media then flows a -> b and b -> a."""

    @abc.abstractmethod
    async def end(self, call_id: str) -> None:
        """Close both connections of a call."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close everything."""


class AtendeCalls(CallServer):
    """Atende's relay: encoded forwarding, one connection per browser."""

    def __init__(self) -> None:
        self.relay = Relay(RelayConfig(host_addresses=LOOPBACK, remote_networks=("127.0.0.0/8",)))

    async def open(self, call_id: str, offer_a: str, offer_b: str) -> tuple[str, str]:
        a, b = f"{call_id}-a", f"{call_id}-b"
        self.relay.pair(a, b)  # as take-next does, before the pages send their offers
        answer_a = await self.relay.answer(a, offer_a)
        answer_b = await self.relay.answer(b, offer_b)
        return answer_a, answer_b

    async def end(self, call_id: str) -> None:
        a, b = f"{call_id}-a", f"{call_id}-b"
        self.relay.unpair(a)
        await self.relay.close_peer(a)
        await self.relay.close_peer(b)

    async def close(self) -> None:
        await self.relay.close()


class BaselineCalls(CallServer):
    """What a naive aiortc server does: MediaRelay hands each received track to the other
    connection, whose sender encodes the decoded frames again."""

    def __init__(self) -> None:
        install()  # for gather_on only
        self.media = MediaRelay()
        self.calls: dict[str, tuple[RTCPeerConnection, RTCPeerConnection]] = {}

    async def open(self, call_id: str, offer_a: str, offer_b: str) -> tuple[str, str]:
        pcs = (
            RTCPeerConnection(RTCConfiguration(iceServers=[])),
            RTCPeerConnection(RTCConfiguration(iceServers=[])),
        )
        self.calls[call_id] = pcs
        received: tuple[dict[str, MediaStreamTrack], dict[str, MediaStreamTrack]] = ({}, {})
        for pc, tracks in zip(pcs, received, strict=True):
            pc.on("track", lambda track, tracks=tracks: tracks.__setitem__(track.kind, track))
        for pc, offer in zip(pcs, (offer_a, offer_b), strict=True):
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        for pc, other in ((pcs[0], received[1]), (pcs[1], received[0])):
            for track in other.values():
                pc.addTrack(self.media.subscribe(track))
        answers = []
        for pc in pcs:
            with gather_on(LOOPBACK):
                await pc.setLocalDescription(await pc.createAnswer())
            answers.append(str(pc.localDescription.sdp))
        return answers[0], answers[1]

    async def end(self, call_id: str) -> None:
        pcs = self.calls.pop(call_id, ())
        await asyncio.gather(*(pc.close() for pc in pcs))

    async def close(self) -> None:
        for call_id in list(self.calls):
            await self.end(call_id)


def call_app(calls: CallServer) -> web.Application:
    async def post_call(request: web.Request) -> web.Response:
        body = await request.json()
        answer_a, answer_b = await calls.open(str(body["id"]), body["a"], body["b"])
        return web.json_response({"a": answer_a, "b": answer_b})

    async def delete_call(request: web.Request) -> web.Response:
        await calls.end(request.match_info["call_id"])
        return web.json_response({})

    async def closing(app: web.Application) -> None:
        await calls.close()

    app = web.Application()
    app.router.add_post("/calls", post_call)
    app.router.add_delete("/calls/{call_id}", delete_call)
    app.on_cleanup.append(closing)
    return app


def web_app(directory: Path, settings: dict[str, dict[str, Any]]) -> web.Application:
    from tests.support import make_config
    from web.app import create_app

    return create_app(make_config(directory, **settings))


async def serve(app: web.Application) -> None:
    """Listen on 127.0.0.1 (a free port), print it, run until SIGTERM or SIGINT."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    kind = argv[0] if argv else ""
    if kind in ("atende", "baseline"):
        calls: CallServer = AtendeCalls() if kind == "atende" else BaselineCalls()
        app = call_app(calls)
    elif kind == "web" and len(argv) == 3:
        app = web_app(Path(argv[1]), json.loads(argv[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    asyncio.run(serve(app))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
