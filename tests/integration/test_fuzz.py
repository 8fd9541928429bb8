"""Fuzzing the app's doors: socket messages and forms, hundreds of hostile cases per run.

Every case gets a clear answer (an error message on the socket, a 4xx or a page on a form),
never a 5xx or an "internal" error, nothing is logged at ERROR, and afterwards the service still
serves a whole visit: registration, queue, take-next and a call with media both ways.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.calls import start_call
from tests.integration.conftest import ClientMaker
from tests.integration.flows import approved_professional, make_admin, register_patient
from tests.integration.test_signaling import next_of, open_ws
from tests.support import csrf_from, make_config
from web.config import Config
from web.keys import CONFIG
from web.queue import DECLARABLE
from web.signaling import PATIENT_MESSAGES, PROFESSIONAL_MESSAGES

FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SENTINEL = {"type": "fuzz-sentinel"}  # always answered with error "unknown_type"

JSON_VALUE = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)  # fmt: skip
TYPES = sorted({*PATIENT_MESSAGES, *PROFESSIONAL_MESSAGES, "probe_offer", "hello", "queue", ""})
FIELDS = sorted(
    {f for m in (PATIENT_MESSAGES, PROFESSIONAL_MESSAGES) for v in m.values() for f in v}
)


@st.composite
def message_object(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {}
    if draw(st.booleans()):
        message["type"] = draw(st.one_of(st.sampled_from(TYPES), JSON_VALUE))
    for name in draw(st.lists(st.sampled_from([*FIELDS, "extra"]), max_size=4)):
        message[name] = draw(
            st.one_of(
                JSON_VALUE,
                st.sampled_from(["pedido", "duplicado", "v=0\r\n", 2**63, -1, 1, True, "x" * 2000]),
            )
        )
    return message


SOCKET_INPUT = st.one_of(
    message_object().map(json.dumps),
    message_object().map(json.dumps),
    JSON_VALUE.map(json.dumps),
    st.text(max_size=200),
    st.sampled_from(["[" * 3000, "{" * 3000, '{"type": "chat", "text": "' + "x" * 140_000 + '"}']),
    st.builds(lambda n: json.dumps({"type": "chat", "text": "é" * n}), st.integers(0, 70_000)),
)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Lockouts off: every fuzzed sign-in comes from 127.0.0.1, and the visit afterwards too
    (lockouts have their own tests in test_bad_input.py)."""
    return make_config(tmp_path, limits={"failed_logins": 1_000_000})


@pytest.fixture
def error_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


def assert_nothing_logged_as_error(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


async def assert_a_whole_visit_works(aiohttp_client: ClientMaker, app_client: TestClient) -> None:
    """A new patient and a new professional complete a visit with media both ways."""
    patient = await aiohttp_client(app_client.server)
    pro = await aiohttp_client(app_client.server)
    await register_patient(patient, 777_001)
    await approved_professional(pro, email="after.fuzz@example.org")
    waiting = await open_ws(patient, "patient")
    first = await next_of(waiting, "queue")
    await waiting.close()
    resp = await pro.post(
        "/profissional/atender",
        data={"csrf_token": csrf_from(await (await pro.get("/profissional")).text())},
    )
    assert resp.status == 200, await resp.text()
    call = await start_call(patient, pro)
    try:
        await call.pro_ws.send_json({"type": "hangup"})
        assert (await next_of(call.patient_ws, "call_ended"))["by"] == "professional"
    finally:
        await call.close()
    assert first["position"] >= 1


BINARY_REFUSED = "Mensagens binárias não são aceitas."


async def exchange(ws: Any, raw: str) -> list[dict[str, Any]]:
    """Send raw, then a binary frame as a sentinel; what arrives until the sentinel's error."""
    await ws.send_str(raw)
    await ws.send_bytes(b"sentinel")
    received = []
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 10)
        if message.get("type") == "error" and message.get("message") == BINARY_REFUSED:
            return received
        received.append(message)


class Door:
    """A waiting patient's page and an approved professional's, shared by all the examples."""

    def __init__(self, clients: dict[str, TestClient]) -> None:
        self.clients = clients
        self.sockets: dict[str, Any] = {}

    async def socket(self, side: str) -> Any:
        ws = self.sockets.get(side)
        if ws is None or ws.closed:
            ws = self.sockets[side] = await open_ws(self.clients[side], side)
            await next_of(ws, "hello")
        return ws

    async def close(self) -> None:
        for ws in self.sockets.values():
            await ws.close()


@pytest.fixture
async def door(aiohttp_client: ClientMaker, client: TestClient) -> AsyncIterator[Door]:
    """Afterwards the same app must still serve a whole visit."""
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 880_001)
    await approved_professional(client)
    door = Door({"patient": patient, "professional": client})
    yield door
    await exchange(await door.socket("patient"), json.dumps({"type": "leave"}))  # if waiting
    await door.close()
    await assert_a_whole_visit_works(aiohttp_client, client)


@FUZZ
@given(side=st.sampled_from(["patient", "professional"]), raw=SOCKET_INPUT)
async def test_socket_messages_always_get_a_clear_answer(
    door: Door, error_log: pytest.LogCaptureFixture, side: str, raw: str
) -> None:
    ws = await door.socket(side)
    if len(raw.encode()) > 2 * door.clients[side].app[CONFIG].limits.message_bytes:
        # Past twice the limit the frame is not even read: the socket closes as "too big".
        await ws.send_str(raw)
        closing = await asyncio.wait_for(ws.receive(), 10)
        while closing.type is WSMsgType.TEXT:  # a push (a list, a place) sent just before
            closing = await asyncio.wait_for(ws.receive(), 10)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
        return
    for reply in await exchange(ws, raw):
        assert reply.get("type") != "error" or reply.get("code") != "internal", reply
        if reply.get("type") == "error":
            assert reply.get("message"), reply  # words for the page
    assert not ws.closed
    assert_nothing_logged_as_error(error_log)


FORMS = [
    "/paciente/cadastro", "/paciente/entrar", "/paciente/teste", "/paciente/termos",
    "/paciente/avaliacao", "/profissional/cadastro", "/profissional/entrar",
    "/profissional/atender", "/admin/profissionais/1/aprovar", "/admin/profissionais/2/ativo",
    "/admin/profissionais/999999999/nova-senha", "/paciente/termos/recusar",
    "/paciente/dados/exclusao", "/admin/privacidade/1/apagar",
]  # fmt: skip
FORM_FIELDS = [
    "cpf", "full_name", "birth_date", "phone", "email", "accept", "version", "speaker", "skip",
    "rating", "comment", "name", "council", "council_number", "council_uf", "password",
    "password_confirm", "active", "next", *(f"priority_{code}" for code in DECLARABLE), "extra",
    "confirm", "para",
]  # fmt: skip
FORM_VALUE = st.one_of(
    st.text(max_size=60),
    st.sampled_from([
        "", "yes", "no", "1", "5", "0", "-1", "6", "1e9", "2000-02-30", "1990-05-17", "9999-12-31",
        "529.982.247-25", "52998224725", "١٢٣٤٥٦٧٨٩٠٠", "CRM", "DF", "XX", "a@b", "x" * 5000,
        "/admin", "//evil.example/", "<script>alert(1)</script>", "' OR 1=1 --",
    ]),
)  # fmt: skip
CALLERS = ["anonymous", "patient", "professional", "admin"]


class FormDoor:
    """One signed-in client per kind of caller (and their CSRF tokens), shared by the examples."""

    def __init__(self, clients: dict[str, TestClient]) -> None:
        self.clients = clients

    async def token(self, caller: str) -> str:
        page = {"anonymous": "/paciente", "patient": "/paciente/fila"}.get(caller, "/profissional")
        return csrf_from(await (await self.clients[caller].get(page)).text())


@pytest.fixture
async def form_door(aiohttp_client: ClientMaker, client: TestClient) -> AsyncIterator[FormDoor]:
    clients = {caller: await aiohttp_client(client.server) for caller in CALLERS}
    await register_patient(clients["patient"], 990_001)
    await approved_professional(clients["professional"], email="pro.fuzz@example.org")
    await make_admin(clients["admin"])
    yield FormDoor(clients)
    await assert_a_whole_visit_works(aiohttp_client, client)


@FUZZ
@given(
    caller=st.sampled_from(CALLERS),
    action=st.sampled_from(FORMS),
    fields=st.dictionaries(st.sampled_from(FORM_FIELDS), FORM_VALUE, max_size=8),
    with_token=st.sampled_from([True, True, True, False]),
)
async def test_forms_answer_every_input_without_a_server_error(
    form_door: FormDoor, error_log: pytest.LogCaptureFixture, caller: str, action: str,
    fields: dict[str, str], with_token: bool,
) -> None:  # fmt: skip
    data = dict(fields)
    if with_token:
        data["csrf_token"] = await form_door.token(caller)
    resp = await form_door.clients[caller].post(action, data=data, allow_redirects=False)
    assert resp.status < 500, (resp.status, await resp.text())
    if not with_token:
        assert resp.status == 403
    if resp.status in (302, 303):
        assert resp.headers["Location"].startswith("/"), resp.headers["Location"]  # never away
    assert_nothing_logged_as_error(error_log)
