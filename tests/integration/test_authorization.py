"""Who may do what: every route and every socket message type, against every kind of caller.

The table below must name every route the app has (a new route without a row fails the test).
"Allowed" means the handler served the caller (any status but a refusal); "refused" means a
redirect to a sign-in page, 401 or 403. Forms are posted with the caller's valid CSRF token, so
what is checked is the role, not the token.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import (
    approved_professional,
    make_admin,
    password_hash,
    register_patient,
)
from tests.integration.test_signaling import next_of, open_ws
from tests.support import csrf_from, make_config, make_cpf
from web import privacy
from web.config import Config
from web.keys import STORE
from web.signaling import PATIENT_MESSAGES, PROFESSIONAL_MESSAGES

CALLERS = ("anonymous", "patient", "pending", "deactivated", "professional", "admin")
EVERYONE = frozenset(CALLERS)
PATIENT = frozenset({"patient"})
STAFF = frozenset({"professional", "admin"})  # admins may attend patients too
ADMIN = frozenset({"admin"})

# (method, route as registered) -> who may use it
ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): EVERYONE,
    ("POST", "/idioma"): EVERYONE,  # the language switch: a cookie, nobody's data
    ("GET", "/paciente"): EVERYONE,
    ("POST", "/paciente/cadastro"): EVERYONE,
    ("GET", "/paciente/entrar"): EVERYONE,
    ("POST", "/paciente/entrar"): EVERYONE,
    ("POST", "/paciente/sair"): EVERYONE,  # signing out without a session is harmless
    ("GET", "/paciente/teste"): PATIENT,
    ("POST", "/paciente/teste"): PATIENT,
    ("GET", "/paciente/termos"): PATIENT,
    ("POST", "/paciente/termos"): PATIENT,
    ("GET", "/paciente/fila"): PATIENT,
    ("GET", "/paciente/consulta"): PATIENT,
    ("GET", "/paciente/avaliacao"): PATIENT,
    ("POST", "/paciente/avaliacao"): PATIENT,
    ("GET", "/paciente/obrigado"): EVERYONE,  # a thank-you page with nobody's data
    ("POST", "/paciente/termos/recusar"): PATIENT,
    ("GET", "/paciente/recusa"): EVERYONE,  # where to find in-person care: nobody's data
    ("GET", "/paciente/dados"): PATIENT,
    ("GET", "/paciente/dados.json"): PATIENT,
    ("POST", "/paciente/dados/exclusao"): PATIENT,
    ("GET", "/profissional"): STAFF,
    ("GET", "/profissional/cadastro"): EVERYONE,
    ("POST", "/profissional/cadastro"): EVERYONE,
    ("GET", "/profissional/entrar"): EVERYONE,
    ("POST", "/profissional/entrar"): EVERYONE,
    ("POST", "/profissional/sair"): EVERYONE,
    ("GET", "/profissional/senha"): STAFF,
    ("POST", "/profissional/senha"): STAFF,
    ("POST", "/profissional/atender"): STAFF,
    ("GET", "/profissional/consulta"): STAFF,
    ("GET", "/admin"): ADMIN,
    ("GET", "/admin/painel.json"): ADMIN,
    ("GET", "/admin/profissionais"): ADMIN,
    ("POST", "/admin/profissionais/{staff_id}/aprovar"): ADMIN,
    ("POST", "/admin/profissionais/{staff_id}/ativo"): ADMIN,
    ("POST", "/admin/profissionais/{staff_id}/nova-senha"): ADMIN,
    ("GET", "/admin/atendimentos"): ADMIN,
    ("GET", "/admin/atendimentos.csv"): ADMIN,
    ("GET", "/admin/atendimentos/registros.json"): ADMIN,
    ("GET", "/admin/atendimentos/registros.csv"): ADMIN,
    ("GET", "/admin/atendimentos/{ticket_id}"): ADMIN,
    ("GET", "/admin/atendimentos/{ticket_id}.json"): ADMIN,
    ("GET", "/admin/atendimentos/{ticket_id}.csv"): ADMIN,
    ("GET", "/admin/avaliacoes"): ADMIN,
    ("GET", "/admin/midia"): ADMIN,
    ("GET", "/admin/privacidade"): ADMIN,
    ("POST", "/admin/privacidade/{patient_id}/apagar"): ADMIN,
    ("GET", "/admin/auditoria"): ADMIN,
    ("GET", "/metrics"): ADMIN,  # no token and no trusted address in this test
    ("GET", "/ws"): frozenset({"patient", "professional", "admin"}),  # see the socket tests
}
SIGN_IN_PAGES = ("/paciente/entrar", "/profissional/entrar")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, metrics={"token": "", "allowed_addresses": []})


@dataclass
class Callers:
    clients: dict[str, TestClient]
    pending_id: int
    patient_id: int  # the patient caller, who waits (ticket_id) and asked for erasure
    ticket_id: int


@pytest.fixture
async def callers(aiohttp_client: ClientMaker, client: TestClient) -> Callers:
    """One client per kind of caller; "pending" tried to sign in before approval, and
    "deactivated" signed in, then an admin deactivated them."""
    clients = {name: await aiohttp_client(client.server) for name in CALLERS}
    store = client.app[STORE]
    await register_patient(clients["patient"], 4201)
    await approved_professional(clients["professional"])
    await make_admin(clients["admin"])
    await approved_professional(clients["deactivated"], email="bia@example.org")
    bia = store.staff_by_email("bia@example.org")
    assert bia is not None
    assert store.set_status(bia.id, "inactive")
    pending = store.create_staff(
        name="Caio Pendente", email="caio@example.org", council="COREN",
        council_number="777", council_uf="SP", password_hash=password_hash("senha-muito-boa"),
        role="professional", status="pending",
    )  # fmt: skip
    refused = await post_form(
        clients["pending"], "/profissional/entrar", "/profissional/entrar",
        {"email": "caio@example.org", "password": "senha-muito-boa"},
    )  # fmt: skip
    assert refused.status == 403
    patient = store.patient_by_cpf(make_cpf(4201))
    assert patient is not None
    ticket = store.active_ticket(patient.id)
    assert ticket is not None
    privacy.request_erasure(store, patient.id)  # an admin may confirm it (not while waiting)
    return Callers(clients, pending.id, patient.id, ticket.id)


def cases() -> list[tuple[str, str]]:
    return [(method, route) for method, route in ROUTES if route != "/ws"]


def test_the_table_names_every_route(client: TestClient) -> None:
    registered = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    assert {r for r in registered if not r[1].startswith("/static")} == set(ROUTES)


async def request_as(client: TestClient, method: str, path: str) -> tuple[int, str]:
    """The response status and, for a redirect, where it points."""
    if method == "GET":
        resp = await client.get(path, allow_redirects=False)
    else:
        session_page = await client.get("/paciente", allow_redirects=False)
        token = csrf_from(await session_page.text()) if session_page.status == 200 else ""
        if not token:  # a signed-in patient is sent on from the registration page
            token = csrf_from(await (await client.get("/profissional/entrar")).text())
        resp = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
    return resp.status, resp.headers.get("Location", "")


def refused(status: int, location: str) -> bool:
    return status in (401, 403) or (status in (302, 303) and location in SIGN_IN_PAGES)


async def test_every_route_against_every_caller(callers: Callers) -> None:
    # One set of callers for all routes (sign-ins are slow); the sign-out routes go last.
    for method, route in sorted(cases(), key=lambda case: case[1].endswith("/sair")):
        path = (
            route.replace("{staff_id}", str(callers.pending_id))
            .replace("{patient_id}", str(callers.patient_id))
            .replace("{ticket_id}", str(callers.ticket_id))
        )
        allowed = ROUTES[(method, route)]
        outcome = {}
        for name in CALLERS:
            status, location = await request_as(callers.clients[name], method, path)
            assert status < 500, (method, route, name, status)
            outcome[name] = not refused(status, location)
        if allowed == EVERYONE:
            continue  # public pages and forms (a sign-in form answers 401 to a bad password)
        assert {name for name, ok in outcome.items() if ok} == allowed, (method, route, outcome)


async def test_sockets_open_only_for_their_role(callers: Callers) -> None:
    expected = {
        "patient": {"patient"},
        "professional": {"professional", "admin"},
    }
    for role, allowed in expected.items():
        for name in CALLERS:
            client = callers.clients[name]
            try:
                ws = await open_ws(client, role)
            except WSServerHandshakeError as exc:
                assert name not in allowed, (role, name, exc.status)
                assert exc.status == 401
            else:
                assert name in allowed, (role, name)
                await ws.close()


PUSHED = frozenset({"hello", "queue", "waiting_list", "chat_history", "media_state"})


async def first_reply(ws: Any) -> dict[str, Any]:
    """The first message that answers what the page sent (pushed updates skipped)."""
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 5)
        if message["type"] not in PUSHED:
            return message


@pytest.mark.parametrize("kind", sorted({*PATIENT_MESSAGES, *PROFESSIONAL_MESSAGES}))
async def test_every_message_type_is_checked_against_the_role(callers: Callers, kind: str) -> None:
    for role, catalogue in (("patient", PATIENT_MESSAGES), ("professional", PROFESSIONAL_MESSAGES)):
        ws = await open_ws(callers.clients[role], role)
        try:
            await next_of(ws, "hello")
            await ws.send_str(json.dumps({"type": kind}))  # fields missing on purpose
            reply = await first_reply(ws)
            refused = reply["type"] == "error" and reply["code"] == "unknown_type"
            assert refused == (kind not in catalogue), (role, kind, reply)
        finally:
            await ws.close()


async def test_a_patient_cannot_touch_another_patients_place(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    first = await aiohttp_client(client.server)
    other = await aiohttp_client(client.server)
    await register_patient(first, 4301)
    await register_patient(other, 4302)
    first_ws = await open_ws(first, "patient")
    assert (await next_of(first_ws, "queue"))["position"] == 1
    other_ws = await open_ws(other, "patient")
    await next_of(other_ws, "queue", position=2)
    ticket = client.app[STORE].active_ticket(1)
    assert ticket is not None
    # The other patient tries the professional's removal with the first one's ticket.
    await other_ws.send_json({"type": "remove", "ticket": ticket.id, "reason": "pedido"})
    assert (await next_of(other_ws, "error"))["code"] == "unknown_type"
    await other_ws.send_json({"type": "leave"})  # leaves only their own place
    await next_of(other_ws, "left")
    assert (await next_of(first_ws, "queue"))["position"] == 1
    assert client.app[STORE].active_ticket(1) is not None
