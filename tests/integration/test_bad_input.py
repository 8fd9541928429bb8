"""Bad input and guessing get clear 4xx answers or error messages, never a 500."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional, register_patient
from tests.integration.test_signaling import next_of, open_ws
from tests.support import csrf_from, make_config, make_cpf
from web.app import create_app
from web.keys import STORE


async def test_guessing_a_birth_date_is_locked_out(client: TestClient) -> None:
    cpf = await register_patient(client, 401, born="1985-07-14")
    client.session.cookie_jar.clear()
    for day in range(1, 6):
        wrong = await post_form(
            client,
            "/paciente/entrar",
            "/paciente/entrar",
            {"cpf": cpf, "birth_date": f"1985-07-0{day}"},
        )
        assert wrong.status == 422
    right = await post_form(
        client, "/paciente/entrar", "/paciente/entrar", {"cpf": cpf, "birth_date": "1985-07-14"}
    )
    assert right.status == 429
    assert "Muitas tentativas. Tente de novo em 5 minutos." in await right.text()


async def test_guessing_a_password_is_locked_out(client: TestClient) -> None:
    await approved_professional(client)
    client.session.cookie_jar.clear()
    for _ in range(5):
        resp = await post_form(
            client, "/profissional/entrar", "/profissional/entrar",
            {"email": "ana@example.org", "password": "chute-errado"},
        )  # fmt: skip
        assert resp.status == 401
    resp = await post_form(
        client, "/profissional/entrar", "/profissional/entrar",
        {"email": "ana@example.org", "password": "senha-muito-boa"},
    )  # fmt: skip
    assert resp.status == 429
    assert "Muitas tentativas" in await resp.text()


async def test_guesses_sent_in_parallel_are_all_counted(client: TestClient) -> None:
    """A password check takes a while (off the event loop): guesses sent together must not
    all slip through before the first failure is counted."""
    await approved_professional(client)
    client.session.cookie_jar.clear()
    token = csrf_from(await (await client.get("/profissional/entrar")).text())
    guess = {"csrf_token": token, "email": "ana@example.org", "password": "chute-errado"}
    answers = await asyncio.gather(
        *(client.post("/profissional/entrar", data=guess) for _ in range(12))
    )
    statuses = sorted(r.status for r in answers)
    assert statuses == [401] * 5 + [429] * 7, statuses


async def test_a_shared_address_is_not_locked_by_a_few_mistakes(client: TestClient) -> None:
    """A clinic's network is one address for everyone: empty forms are not attempts, and other
    people's mistakes there do not lock out a right password (only many more would)."""
    await approved_professional(client)
    client.session.cookie_jar.clear()
    for _ in range(2):
        empty = await post_form(
            client, "/profissional/entrar", "/profissional/entrar", {"email": "", "password": ""}
        )
        assert empty.status == 422
        assert "Informe o e-mail e a senha." in await empty.text()
    for n in range(6):  # more than one account's limit, spread over several accounts
        wrong = await post_form(
            client, "/profissional/entrar", "/profissional/entrar",
            {"email": f"outra{n}@example.org", "password": "chute-errado"},
        )  # fmt: skip
        assert wrong.status == 401
    unknown = await post_form(
        client, "/paciente/entrar", "/paciente/entrar",
        {"cpf": make_cpf(405), "birth_date": "1990-01-01"},
    )  # fmt: skip
    assert unknown.status == 422
    right = await post_form(
        client, "/profissional/entrar", "/profissional/entrar",
        {"email": "ana@example.org", "password": "senha-muito-boa"},
    )  # fmt: skip
    assert right.url.path == "/profissional"


async def test_registrations_per_address_are_limited(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    config = make_config(tmp_path, limits={"registrations_per_minute": 2})
    client = await aiohttp_client(create_app(config))
    for seed in (411, 412):
        await register_patient(client, seed)
        client.session.cookie_jar.clear()
    resp = await post_form(
        client, "/paciente", "/paciente/cadastro",
        {"cpf": make_cpf(413), "full_name": "Terceira Pessoa", "birth_date": "1990-01-01",
         "phone": "61999998888"},
    )  # fmt: skip
    assert resp.status == 429
    assert "Muitos cadastros feitos desta rede agora" in await resp.text()


async def test_unreadable_form_bodies_are_400(client: TestClient) -> None:
    html = await (await client.get("/paciente")).text()
    token = csrf_from(html)
    cases = [
        (b"a=\xff", "application/x-www-form-urlencoded"),
        (b"a=b", "application/x-www-form-urlencoded; charset=x-nope"),
        (b"--x\r\ngarbage", "multipart/form-data"),
        (b"--x\r\ngarbage", "multipart/form-data; boundary=y"),
    ]
    for body, kind in cases:
        resp = await client.post("/paciente/cadastro", data=body, headers={"Content-Type": kind})
        assert resp.status == 400, (body, kind, resp.status)
        again = await client.post(
            "/paciente/cadastro", data=body,
            headers={"Content-Type": kind, "X-CSRF-Token": token},
        )  # fmt: skip
        assert again.status == 400


async def test_unknown_method_is_405_and_huge_ids_are_404(client: TestClient) -> None:
    assert (await client.put("/paciente")).status == 405
    await approved_professional(client)
    html = await (await client.get("/profissional")).text()
    resp = await client.post(
        "/admin/profissionais/99999999999999999999/aprovar", data={"csrf_token": csrf_from(html)}
    )
    assert resp.status == 404


async def test_hostile_socket_messages_get_errors_and_the_socket_lives(
    client: TestClient,
) -> None:
    await register_patient(client, 421)
    ws = await open_ws(client, "patient")
    await next_of(ws, "queue")
    await ws.send_str("[" * 5000 + "]" * 5000)
    assert (await next_of(ws, "error"))["code"] == "invalid_json"
    await ws.send_str(json.dumps({"type": "offer", "sdp": "x" * (140 * 1024)}))
    assert (await next_of(ws, "error"))["code"] == "too_large"
    await ws.send_str(json.dumps({"type": "chat", "text": "oi" * 10}))
    assert (await next_of(ws, "error"))["code"] == "not_in_call"
    await ws.send_json({"type": "leave"})
    assert (await next_of(ws, "left"))["type"] == "left"


async def test_message_and_offer_sizes_follow_the_settings(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    limits = {"message_bytes": 16 * 1024, "offer_bytes": 8 * 1024}
    client = await aiohttp_client(create_app(make_config(tmp_path, limits=limits)))
    await register_patient(client, 422)
    ws = await open_ws(client, "patient")
    await next_of(ws, "queue")
    await ws.send_str(json.dumps({"type": "chat", "text": "x" * (17 * 1024)}))
    assert (await next_of(ws, "error"))["code"] == "too_large"
    offer = "v=0\r\n" + "a=x:" + "y" * (9 * 1024) + "\r\n"  # fits a message, not an offer
    await ws.send_str(json.dumps({"type": "probe_offer", "sdp": offer}))
    refused = await next_of(ws, "error")
    assert (refused["code"], refused["reason"]) == ("offer_rejected", "too_large")
    await ws.send_str("x" * (33 * 1024))  # past twice the limit: not even read
    closing = await ws.receive()
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG


async def test_huge_numbers_in_messages_are_invalid(client: TestClient) -> None:
    await approved_professional(client)
    ws = await open_ws(client, "professional")
    for ticket in (2**63, -1, True):
        await ws.send_json({"type": "remove", "ticket": ticket, "reason": "pedido"})
        assert (await next_of(ws, "error"))["code"] == "invalid_field"


async def test_signing_out_ends_the_session_everywhere(client: TestClient) -> None:
    await approved_professional(client)
    copied = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    await post_form(client, "/profissional", "/profissional/sair", {})
    client.session.cookie_jar.update_cookies(copied)  # someone kept the old cookie
    resp = await client.get("/profissional", allow_redirects=False)
    assert resp.headers["Location"] == "/profissional/entrar"


async def test_chat_floods_are_refused(aiohttp_client: ClientMaker, client: TestClient) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 431)
    await approved_professional(client)
    await post_form(client, "/profissional", "/profissional/atender", {})
    ws = await open_ws(patient, "patient")
    for i in range(10):
        await ws.send_json({"type": "chat", "text": f"mensagem {i}"})
        await next_of(ws, "chat", text=f"mensagem {i}")
    await ws.send_json({"type": "chat", "text": "mais uma"})
    assert (await next_of(ws, "error"))["code"] == "too_fast"


async def test_rating_can_be_skipped_and_only_follows_a_real_call(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 441)
    await approved_professional(client)
    await post_form(client, "/profissional", "/profissional/atender", {})
    patient_ws = await open_ws(patient, "patient")
    await patient_ws.send_json({"type": "hangup"})  # before any media: no visit took place
    await next_of(patient_ws, "call_ended")
    resp = await patient.get("/paciente/avaliacao", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/paciente/teste"
    store = client.app[STORE]
    store.db.execute("UPDATE tickets SET started_at = ended_at - 300")  # as if it had happened
    page = await patient.get("/paciente/avaliacao")
    assert "Como foi o seu atendimento?" in await page.text()
    skipped = await post_form(
        patient, "/paciente/avaliacao", "/paciente/avaliacao", {"skip": "yes"}
    )
    assert skipped.url.path == "/paciente/obrigado"
    assert "Atendimento concluído" in await skipped.text()
    row = store.db.execute("SELECT rating, rated_at FROM tickets").fetchone()
    assert row["rating"] is None and row["rated_at"] is not None


async def test_a_request_that_skipped_the_proxy_is_refused(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    # the proxy is elsewhere (a network given loosely, as an operator may write it); this test
    # client connects straight from 127.0.0.1, forwarded headers or not
    config = make_config(tmp_path, server={"trusted_proxies": ["10.1.2.3/8"]})
    client = await aiohttp_client(create_app(config))
    assert (await client.get("/")).status == 400
    assert (await client.get("/", headers={"X-Forwarded-For": "10.1.2.3"})).status == 400


async def test_behind_a_proxy_the_client_address_is_the_forwarded_one(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    """With server.trusted_proxies, /metrics' allowed addresses and the lockouts see the client
    the proxy forwards (an address only written in a header here: no traffic goes to it)."""
    config = make_config(
        tmp_path,
        server={"trusted_proxies": ["127.0.0.1"]},
        limits={"failed_logins_per_address": 3},
    )
    other = {"X-Forwarded-For": "198.51.100.9"}  # every request comes through the proxy
    client = await aiohttp_client(create_app(config), headers=other)
    assert (await client.get("/", headers={"X-Forwarded-For": ""})).status == 400  # not proxied
    appended = {"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}  # the proxy must replace it
    assert (await client.get("/", headers=appended)).status == 400
    https = await client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert https.status == 200 and "Strict-Transport-Security" in https.headers
    assert "Strict-Transport-Security" not in (await client.get("/")).headers
    outside = {"X-Forwarded-For": "203.0.113.7"}
    assert (await client.get("/metrics", headers=outside)).status == 403
    local = {"X-Forwarded-For": "127.0.0.1"}  # the proxy forwards a request of this machine
    assert (await client.get("/metrics", headers=local)).status == 200
    # A wrong birth date from one client behind the proxy does not lock out the others.
    cpf = await register_patient(client, 431, born="1985-07-14")
    client.session.cookie_jar.clear()
    token = csrf_from(await (await client.get("/paciente/entrar", headers=outside)).text())
    wrong = {"csrf_token": token, "cpf": cpf, "birth_date": "1985-07-15"}
    for _ in range(config.limits.failed_logins_per_address):
        await client.post("/paciente/entrar", data=wrong, headers=outside)
    somebody = {"csrf_token": token, "cpf": make_cpf(432), "birth_date": "1990-05-17"}
    locked = await client.post("/paciente/entrar", data=somebody, headers=outside)
    assert locked.status == 429  # that client's address is locked, for any CPF
    resp = await client.post("/paciente/entrar", data=somebody)  # another client, same proxy
    assert resp.status == 422, await resp.text()  # not found, but not locked out
