"""Time to media: from a professional's take-next to the first decoded remote video frame on
both sides, through the real application (web pages, WebSocket signaling, the relay inside the
app's process) with aiortc peers replaying the clip here, as the call pages would."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bench.load import median
from bench.media import Clip
from bench.peers import User, accept, make_offer, wait_for
from bench.procs import Process
from bench.webclient import SETTINGS, Site, Socket, seed
from tests.support import make_config

MEDIA_TIMEOUT = 20.0


async def _call_page(site: Site, cookie: str, role: str, page: str, user: User) -> Socket:
    """What a call page does: load, open its socket, offer its camera and microphone."""
    cookie, _, _, _ = await site.get(cookie, page)
    socket = await site.socket(cookie, role)
    await socket.wait("hello")
    pc = user.sending_pc()
    await socket.send({"type": "offer", "sdp": await make_offer(pc)})
    answer = await socket.wait("answer")
    await accept(pc, answer["sdp"])
    return socket


def _prepare(workdir: Path, visits: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    config = make_config(workdir, **SETTINGS)
    seed(Path(config.database_path), visits, 1, config.terms.version)


async def _visit(
    site: Site, clip: Clip, number: int, professional: tuple[str, str], dashboard: Socket
) -> dict[str, float]:
    """Patient number waits, the professional takes them: ms to each side's first frame."""
    cookie, csrf = professional
    patient = await site.patient_login(number)
    waiting = await site.socket(patient, "patient")
    await waiting.wait("queue")
    patient_user = User(clip, f"patient{number}", decode=True)
    professional_user = User(clip, f"professional{number}", decode=True)
    patient_user.partner, professional_user.partner = professional_user, patient_user
    users = (patient_user, professional_user)
    sockets: list[Socket] = [waiting]
    try:
        t0 = time.monotonic()
        where = await site.take_next(cookie, csrf)

        async def patient_page() -> Socket:
            await waiting.wait("called", t0)
            await waiting.close()  # the waiting page gives way to the call page
            return await _call_page(site, patient, "patient", "/paciente/consulta", patient_user)

        sockets += await asyncio.gather(
            patient_page(), _call_page(site, cookie, "professional", where, professional_user)
        )
        if not await wait_for(lambda: all(u.got_video() for u in users), MEDIA_TIMEOUT):
            raise RuntimeError("no video within the time limit")
        first = {
            "patient": patient_user.received["video"].first_frame_at or t0,
            "professional": professional_user.received["video"].first_frame_at or t0,
        }
        await sockets[-1].send({"type": "hangup"})
        await dashboard.wait("waiting_list", time.monotonic())
        return {side: 1000 * (at - t0) for side, at in first.items()}
    finally:
        for socket in sockets:
            await socket.close()
        for user in users:
            await user.close()


async def run(workdir: Path, logs: Path, clip: Clip, *, visits: int) -> dict[str, Any]:
    _prepare(workdir, visits)
    server = await Process.python(
        "web", ["bench.serve", "web", str(workdir), json.dumps(SETTINGS)], logs / "web-ttm.log"
    )
    site = Site(server.port)
    samples: list[dict[str, float]] = []
    try:
        professional = await site.professional_login(0)
        dashboard = await site.socket(professional[0], "professional")
        for number in range(1, visits + 1):
            print(f"  time to media: visit {number}/{visits}", flush=True)
            samples.append(await _visit(site, clip, number, professional, dashboard))
        await dashboard.close()
        both = [max(s.values()) for s in samples]
        return {
            "visits": visits,
            "samples_ms": samples,
            "patient_p50_ms": median([s["patient"] for s in samples]),
            "professional_p50_ms": median([s["professional"] for s in samples]),
            "both_p50_ms": median(both),
            "both_max_ms": max(both) if both else float("nan"),
        }
    finally:
        await site.close()
        await server.stop()
