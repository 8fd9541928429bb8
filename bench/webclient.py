"""Browser stand-ins for the real application: pages, forms with CSRF tokens, session cookies
and WebSockets, all on one HTTP client (each person's cookie is carried by hand)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import csrf_from, make_cpf
from web import queue
from web.accounts import hash_password
from web.store import Store

COOKIE = "atende_session"
_TYPE = re.compile(r'"type":\s*"([a-z_]+)"')
BIRTH = date(1990, 5, 17)
# Timers that must not fire while a benchmark runs (pages connect slowly, calls are held).
SETTINGS: dict[str, dict[str, Any]] = {
    "queue": {"grace_seconds": 3600, "no_show_seconds": 3600, "call_grace_seconds": 3600},
    "limits": {"registrations_per_minute": 1_000_000, "failed_logins": 1_000_000},
}
PASSWORD = "senha-de-bancada"  # noqa: S105 (benchmark professionals in a throwaway database)


def seed(
    database: Path, patients: int, professionals: int, terms_version: str, *, waiting: bool = True
) -> None:
    """Patients (seeds 1..patients, consent given; with waiting, one ticket each, in order)
    and approved professionals (prof<i>@bench.invalid), written straight into the store."""
    store = Store(str(database))
    store.db.execute("PRAGMA synchronous = OFF")  # a throwaway database: no fsync per row
    try:
        for seed_number in range(1, patients + 1):
            patient = store.create_patient(
                make_cpf(seed_number), f"Paciente {seed_number} Souza", BIRTH, "61999998888", ""
            )
            store.record_consent(patient.id, terms_version)
        hashed = hash_password(PASSWORD)
        for number in range(professionals):
            store.create_staff(
                name=f"Profissional {number}",
                email=f"prof{number}@bench.invalid",
                password_hash=hashed,
                role="professional",
                status="approved",
                council="CRM",
                council_number=str(10000 + number),
                council_uf="DF",
            )
    finally:
        store.close()
    if waiting:
        enqueue(database)


def enqueue(database: Path) -> None:
    """Every patient without an open visit joins the queue, in the order they registered
    (straight into the store, as Visits.join would, without telling any page)."""
    store = Store(str(database))
    store.db.execute("PRAGMA synchronous = OFF")
    try:
        no_priority = queue.PriorityDecision(queue.Priority.NONE, ())
        for (patient_id,) in store.db.execute("SELECT id FROM patients ORDER BY id").fetchall():
            store.join_queue(patient_id, no_priority)
    finally:
        store.close()


@dataclass(eq=False)
class Socket:
    """One open page's WebSocket: every message kept with its arrival time and type, parsed
    when asked for (a professional's waiting list of 2,000 patients is large)."""

    ws: aiohttp.ClientWebSocketResponse
    messages: list[tuple[float, str, str]] = field(default_factory=list)  # time, type, JSON
    position: int | None = None
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.monotonic()
            raw = str(msg.data)
            match = _TYPE.search(raw, 0, 80)
            kind = match.group(1) if match else str(json.loads(raw).get("type"))
            self.messages.append((now, kind, raw))
            if kind == "queue":
                self.position = int(json.loads(raw)["position"])

    def arrived(self, kind: str, since: float = 0.0) -> float | None:
        """When the first message of this type arrived at or after since."""
        return next((t for t, k, _ in self.messages if t >= since and k == kind), None)

    def first(self, kind: str, since: float = 0.0) -> tuple[float, dict[str, Any]] | None:
        """The first message of this type that arrived at or after since."""
        found = next(((t, raw) for t, k, raw in self.messages if t >= since and k == kind), None)
        return None if found is None else (found[0], json.loads(found[1]))

    async def wait(self, kind: str, since: float = 0.0, seconds: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while (found := self.first(kind, since)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {kind!r} message within {seconds} s")
            await asyncio.sleep(0.01)
        return found[1]

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


class Site:
    """The application at http://127.0.0.1:port, seen by many browsers at once."""

    def __init__(self, port: int) -> None:
        self.origin = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession(
            self.origin,
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def close(self) -> None:
        await self.http.close()

    async def get(self, cookie: str, path: str) -> tuple[str, str, int, str]:
        """GET path: (cookie after it, body, status, Location)."""
        async with self.http.get(path, headers=_cookie(cookie), allow_redirects=False) as r:
            return _cookie_after(r, cookie), await r.text(), r.status, r.headers.get("Location", "")

    async def post(self, cookie: str, path: str, data: dict[str, str]) -> tuple[str, int, str]:
        """POST a form: (cookie after it, status, Location)."""
        async with self.http.post(
            path, data=data, headers=_cookie(cookie), allow_redirects=False
        ) as r:
            await r.read()
            return _cookie_after(r, cookie), r.status, r.headers.get("Location", "")

    async def submit(
        self, cookie: str, page: str, action: str, data: dict[str, str]
    ) -> tuple[str, int, str]:
        """Open page like a browser, then post its form with the page's CSRF token."""
        cookie, html, _, _ = await self.get(cookie, page)
        return await self.post(cookie, action, {**data, "csrf_token": csrf_from(html)})

    async def patient_login(self, seed_number: int) -> str:
        """A waiting patient's session cookie, signed in with CPF and birth date."""
        form = {"cpf": make_cpf(seed_number), "birth_date": BIRTH.isoformat()}
        cookie, status, _ = await self.submit("", "/paciente/entrar", "/paciente/entrar", form)
        if status != 303:
            raise RuntimeError(f"patient {seed_number}: sign-in answered {status}")
        return cookie

    async def register_patient(self, seed_number: int, terms_version: str) -> str:
        """A new patient, through the pages: registration, terms (joins the queue)."""
        form = {
            "cpf": make_cpf(seed_number),
            "full_name": f"Paciente {seed_number} Lima",
            "birth_date": BIRTH.isoformat(),
            "phone": "61999998888",
        }
        cookie, status, _ = await self.submit("", "/paciente", "/paciente/cadastro", form)
        if status != 303:
            raise RuntimeError(f"registration of {seed_number} answered {status}")
        terms = {"accept": "yes", "version": terms_version}
        cookie, status, where = await self.submit(
            cookie, "/paciente/termos", "/paciente/termos", terms
        )
        if status != 303 or where != "/paciente/fila":
            raise RuntimeError(f"terms of {seed_number} answered {status} {where}")
        cookie, _, status, _ = await self.get(cookie, where)  # the waiting page
        return cookie

    async def professional_login(self, number: int) -> tuple[str, str]:
        """(session cookie, CSRF token of the dashboard) of professional number."""
        form = {"email": f"prof{number}@bench.invalid", "password": PASSWORD}
        cookie, status, _ = await self.submit(
            "", "/profissional/entrar", "/profissional/entrar", form
        )
        if status != 303:
            raise RuntimeError(f"professional {number}: sign-in answered {status}")
        cookie, html, _, _ = await self.get(cookie, "/profissional")
        return cookie, csrf_from(html)

    async def take_next(self, cookie: str, csrf: str) -> str:
        """Press "Atender próximo"; where the browser is sent (the call page when it worked)."""
        _, status, where = await self.post(cookie, "/profissional/atender", {"csrf_token": csrf})
        if status != 303:
            raise RuntimeError(f"take-next answered {status}")
        return where

    async def socket(self, cookie: str, role: str) -> Socket:
        ws = await self.http.ws_connect(
            f"/ws?role={role}", headers={**_cookie(cookie), "Origin": self.origin}, autoping=True
        )
        socket = Socket(ws)
        socket.start()
        return socket


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={value}"} if value else {}


def _cookie_after(response: aiohttp.ClientResponse, cookie: str) -> str:
    morsel = response.cookies.get(COOKIE)
    return morsel.value if morsel is not None else cookie


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the jobs, at most limit at a time; their results in order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))
