"""Load: 200 patients and 20 professionals joining, leaving, being taken and ending calls at once,
over real sockets and forms against the real server in its own process, with real media calls
alongside.

After every action the queue's invariants hold (nobody holds two places, no professional two
calls, every call has its professional, positions 1..n); the media calls keep flowing; the
server's memory stays flat while the load runs and its open descriptors come back once everyone
has gone.

CI runs it for ATENDE_LOAD_SECONDS (default 15); a long run:
    ATENDE_LOAD_SECONDS=300 bash scripts/test.sh tests/integration/test_load.py
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.calls import Call, start_call
from tests.integration.flows import password_hash
from tests.server import Server, running_server
from tests.support import csrf_from, make_cpf
from web.queue import State
from web.store import Store

PATIENTS = 200
PROFESSIONALS = 20
MEDIA_CALLS = 2
SECONDS = float(os.environ.get("ATENDE_LOAD_SECONDS", "15"))
ACTIVE = (State.WAITING.value, State.CALLED.value, State.IN_CALL.value)
PASSWORD = "senha-muito-boa"


class Browser:
    """One person's browser: its own cookies, the site's forms and sockets (what calls.py needs
    of a test client: ws_connect, server.host and server.port)."""

    def __init__(self, server: Server) -> None:
        self.base = server.url
        host, port = server.url.removeprefix("http://").split(":")
        self.server = SimpleNamespace(host=host, port=int(port))
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.token = ""

    async def get(self, path: str) -> aiohttp.ClientResponse:
        return await self.session.get(self.base + path)

    async def post(self, path: str, **fields: str) -> aiohttp.ClientResponse:
        if not self.token:  # any form page carries the session's token
            self.token = csrf_from(await (await self.get("/profissional/entrar")).text())
        data = {"csrf_token": self.token, **fields}
        resp = await self.session.post(self.base + path, data=data, allow_redirects=False)
        if "Set-Cookie" in resp.headers:
            self.token = ""  # a new session (signed in or out): a new token
        return resp

    async def ws_connect(self, path: str, **kwargs: Any) -> aiohttp.ClientWebSocketResponse:
        return await self.session.ws_connect(self.base + path, **kwargs)

    async def close(self) -> None:
        await self.session.close()


async def register(browser: Browser, seed: int) -> None:
    cpf = make_cpf(seed)
    resp = await browser.post(
        "/paciente/cadastro", cpf=cpf, full_name="Paciente Carga", birth_date="1990-05-17",
        phone="61999998888",
    )  # fmt: skip
    assert resp.headers.get("Location") == "/paciente/teste", resp.status
    resp = await browser.post("/paciente/termos", accept="yes", version="1")
    assert resp.headers.get("Location") == "/paciente/fila", (resp.status, await resp.text())


async def sign_in(browser: Browser, store: Store, email: str) -> int:
    staff = store.create_staff(
        name="Profissional Carga", email=email, council="CRM", council_number="1",
        council_uf="DF", password_hash=password_hash(PASSWORD), role="professional",
        status="approved",
    )  # fmt: skip
    resp = await browser.post("/profissional/entrar", email=email, password=PASSWORD)
    assert resp.headers["Location"] == "/profissional", resp.status
    return staff.id


@dataclass
class Tally:
    events: Counter[str] = field(default_factory=Counter)


def check_invariants(store: Store) -> None:
    db = store.db
    holders = db.execute(
        f"SELECT patient_id FROM tickets WHERE state IN {ACTIVE} GROUP BY patient_id"
        " HAVING COUNT(*) > 1"
    ).fetchall()
    assert holders == [], "a patient holds two places"
    busy = db.execute(
        "SELECT professional_id FROM tickets WHERE state IN (?, ?)"
        " GROUP BY professional_id HAVING COUNT(*) > 1",
        (State.CALLED.value, State.IN_CALL.value),
    ).fetchall()
    assert busy == [], "a professional holds two calls"
    orphan = db.execute(
        "SELECT COUNT(*) FROM tickets WHERE state IN (?, ?) AND professional_id IS NULL",
        (State.CALLED.value, State.IN_CALL.value),
    ).fetchone()[0]
    assert orphan == 0, "a called patient without a professional"
    positions = [entry.position for entry in store.waiting()]
    assert positions == list(range(1, len(positions) + 1))


async def patient_worker(
    browser: Browser, store: Store, tally: Tally, deadline: float, rng: random.Random
) -> None:
    ws = await browser.ws_connect("/ws?role=patient", origin=browser.base)
    try:
        while time.monotonic() < deadline:
            try:
                message = await ws.receive_json(timeout=0.5)
            except TimeoutError:
                message = {"type": "idle"}
            kind = message["type"]
            assert kind != "error" or message["code"] != "internal", message
            if kind == "idle" and rng.random() < 0.05:
                await ws.send_json({"type": "leave"})
                tally.events["leave"] += 1
                check_invariants(store)
            elif kind == "called" and rng.random() < 0.4:  # the patient ends it at once
                await ws.send_json({"type": "hangup"})
                tally.events["patient_hangup"] += 1
            elif kind == "requeued":  # the professional ended it first: back at the head
                tally.events[kind] += 1
                check_invariants(store)
            elif kind in ("left", "call_ended", "removed"):
                tally.events[kind] += 1
                if kind == "call_ended":  # rate (skip), then come back a little later
                    await browser.post("/paciente/avaliacao", skip="1")
                await asyncio.sleep(rng.uniform(0.1, 1.0))
                resp = await browser.post("/paciente/termos", accept="yes", version="1")
                assert resp.headers.get("Location") == "/paciente/fila", (
                    resp.status,
                    await resp.text(),
                )
                tally.events["rejoin"] += 1
                check_invariants(store)
    finally:
        await ws.close()


async def professional_worker(
    browser: Browser,
    staff_id: int,
    store: Store,
    tally: Tally,
    deadline: float,
    rng: random.Random,
) -> None:
    ws = await browser.ws_connect("/ws?role=professional", origin=browser.base)
    reader = asyncio.ensure_future(drain(ws, []))
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            resp = await browser.post("/profissional/atender")
            assert resp.status == 303, resp.status
            check_invariants(store)
            if resp.headers["Location"] == "/profissional/consulta":
                tally.events["take"] += 1
                mine = store.current_call(staff_id)  # None if the patient already ended it
                assert mine is None or mine.professional_id == staff_id
                await asyncio.sleep(rng.uniform(0.05, 0.5))
                await ws.send_json({"type": "hangup"})
                tally.events["hangup"] += 1
    finally:
        reader.cancel()
        await ws.close()


async def drain(ws: Any, received: list[dict[str, Any]]) -> None:
    """Read a socket's pushes so nothing piles up unread (and its pings get pongs)."""
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            break
        data = message.json()
        assert data.get("code") != "internal", data
        received.append(data)


@dataclass
class MediaCall:
    call: Call
    patient_messages: list[dict[str, Any]]
    readers: list[asyncio.Future[None]]
    browsers: tuple[Browser, Browser]

    def frames(self) -> int:
        return len(self.call.pro_peer.video_frames) + len(self.call.patient_peer.video_frames)


async def media_call(server: Server, store: Store, n: int) -> MediaCall:
    """A real call with media through the server's relay; its sockets are read from now on."""
    patient, pro = Browser(server), Browser(server)
    await register(patient, 700_000 + n)
    await sign_in(pro, store, f"media{n}@example.org")
    assert (await pro.post("/profissional/atender")).headers["Location"] == "/profissional/consulta"
    call = await start_call(patient, pro)  # type: ignore[arg-type]
    messages: list[dict[str, Any]] = []
    readers = [
        asyncio.ensure_future(drain(call.patient_ws, messages)),
        asyncio.ensure_future(drain(call.pro_ws, [])),
    ]
    return MediaCall(call, messages, readers, (patient, pro))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # Nobody stays away long enough for a timer here; no-shows are the load's own hang-ups;
    # all 200 patients register from 127.0.0.1 within the minute.
    settings = {"queue": {"no_show_seconds": 600}, "limits": {"registrations_per_minute": 10_000}}
    with running_server(tmp_path, settings) as server:  # type: ignore[arg-type]
        yield server


@pytest.fixture
async def store(server: Server) -> AsyncIterator[Store]:
    """The server's database, read (and professionals added) from the test's side."""
    store = Store(str(server.database))
    yield store
    store.close()


async def frames_forwarded(server: Server) -> float:
    """The relay's count of forwarded frames, from /metrics (readable from 127.0.0.1)."""
    async with aiohttp.ClientSession() as session:
        text = await (await session.get(server.url + "/metrics")).text()
    for family in text_string_to_metric_families(text):
        if family.name == "atende_relay_frames_forwarded":
            return float(family.samples[0].value)
    raise AssertionError("no atende_relay_frames_forwarded in /metrics")


def server_figures(server: Server) -> tuple[int, float]:
    process = psutil.Process(server.pid)
    return process.num_fds(), process.memory_info().rss / 2**20


async def test_many_patients_and_professionals_at_once(server: Server, store: Store) -> None:
    rng = random.Random(20261203)
    tally = Tally()
    fds_idle, _ = server_figures(server)
    calls = [await media_call(server, store, n) for n in range(MEDIA_CALLS)]  # called first
    patients = [Browser(server) for _ in range(PATIENTS)]
    pros = [Browser(server) for _ in range(PROFESSIONALS)]
    try:
        for i, patient in enumerate(patients):
            await register(patient, 600_000 + i)
        staff_ids = [await sign_in(pro, store, f"pro{i}@example.org") for i, pro in enumerate(pros)]
        check_invariants(store)

        frames = [c.frames() for c in calls]
        forwarded = await frames_forwarded(server)
        deadline = time.monotonic() + SECONDS
        workers = [patient_worker(p, store, tally, deadline, rng) for p in patients]
        workers += [
            professional_worker(p, staff_id, store, tally, deadline, rng)
            for p, staff_id in zip(pros, staff_ids, strict=True)
        ]
        load = asyncio.gather(*workers, return_exceptions=True)
        await asyncio.sleep(min(3.0, SECONDS / 4))  # everyone connected and busy
        _, rss_start = server_figures(server)
        results = await load
        _, rss_end = server_figures(server)
        forwarded = await frames_forwarded(server) - forwarded
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == [], failures[:3]
        print(  # the figures of a run, for `pytest -s` (and the long run's report)
            f"load: {dict(tally.events)}; relay forwarded {forwarded:.0f} frames;"
            f" server RSS {rss_start:.0f} -> {rss_end:.0f} MiB"
        )
        check_invariants(store)
        assert tally.events["take"] >= 20 and tally.events["requeued"] >= 5, tally.events
        assert tally.events["call_ended"] >= 5 and tally.events["rejoin"] >= 10, tally.events
        # The server's memory stays flat under the load (what its tickets need, no more).
        assert rss_end - rss_start < 40, (rss_start, rss_end)

        # Media kept flowing through the load: the relay forwarded frames all along (4 media
        # directions of video and audio: about 4 x 80 per second at full rate, a third of it
        # on this 2-core machine under the load).
        assert forwarded > 4 * 10 * SECONDS, (
            forwarded,
            [c.frames() - f for c, f in zip(calls, frames, strict=True)],
        )
        for media, before in zip(calls, frames, strict=True):
            assert media.frames() > before + 50
            await media.call.pro_ws.send_json({"type": "hangup"})
            for _ in range(100):
                if any(m["type"] == "call_ended" for m in media.patient_messages):
                    break
                await asyncio.sleep(0.05)
            ended = [m["by"] for m in media.patient_messages if m["type"] == "call_ended"]
            assert ended == ["professional"]
    finally:
        for media in calls:
            for reader in media.readers:
                reader.cancel()
            await media.call.close()
            for browser in media.browsers:
                await browser.close()
        for browser in (*patients, *pros):
            await browser.close()
    await asyncio.sleep(2)  # the server notices the closed sockets
    fds_after, _ = server_figures(server)
    assert fds_after <= fds_idle + 5, (fds_idle, fds_after)  # every socket and peer was closed
