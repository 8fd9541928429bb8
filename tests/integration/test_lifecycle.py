"""The queue and call lifecycle through the app: timers, restart, concurrency, removal, chat."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from relay.relay import Relay
from tests.integration.calls import Call
from tests.integration.calls import start_call as start_media_call
from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional, register_patient
from tests.integration.test_signaling import next_of, open_ws
from tests.relay.clients import Client, SolidVideoTrack, eventually
from tests.support import ROOT, make_config
from web.app import create_app, relay_config
from web.config import Config
from web.keys import RELAY, STORE
from web.queue import State

QUICK = {"grace_seconds": 1, "no_show_seconds": 1, "call_grace_seconds": 1}


@pytest.fixture
def quick_config(tmp_path: Path) -> Config:
    return make_config(tmp_path, queue=QUICK)


@pytest.fixture
async def quick(aiohttp_client: ClientMaker, quick_config: Config) -> TestClient:
    return await aiohttp_client(create_app(quick_config))


@pytest.fixture
async def lossy(aiohttp_client: ClientMaker, tmp_path: Path) -> TestClient:
    """Calls whose sides are declared lost after 1 s (no-shows take long, to keep them apart)."""
    config = make_config(tmp_path, queue={"call_grace_seconds": 1, "no_show_seconds": 60})
    return await aiohttp_client(create_app(config))


def states(config: Config) -> list[tuple[int, str]]:
    with sqlite3.connect(config.database_path) as db:
        return db.execute("SELECT id, state FROM tickets ORDER BY id").fetchall()


async def test_a_dropped_page_keeps_the_place_within_the_grace_period(
    quick: TestClient, quick_config: Config
) -> None:
    await register_patient(quick, 101)
    ws = await open_ws(quick, "patient")
    await next_of(ws, "queue")
    await ws.close()
    await asyncio.sleep(0.5)  # back before the 1 s grace ends: same ticket, same place
    ws = await open_ws(quick, "patient")
    assert (await next_of(ws, "queue"))["position"] == 1
    await asyncio.sleep(1.5)
    assert states(quick_config) == [(1, "waiting")]
    await ws.close()
    await asyncio.sleep(1.8)  # gone for longer than the grace: the place is lost
    assert states(quick_config) == [(1, "left")]


async def test_no_show_goes_back_to_the_head_once_then_is_removed(
    aiohttp_client: ClientMaker, quick: TestClient
) -> None:
    late = await aiohttp_client(quick.server)
    other = await aiohttp_client(quick.server)
    await register_patient(late, 111, name="Lia Atrasada")
    await register_patient(other, 112, name="Rui Pontual")
    late_ws, other_ws = await open_ws(late, "patient"), await open_ws(other, "patient")
    await approved_professional(quick)
    pro_ws = await open_ws(quick, "professional")
    await post_form(quick, "/profissional", "/profissional/atender", {})
    assert (await next_of(late_ws, "called"))["type"] == "called"
    await next_of(other_ws, "queue", position=1)
    # Lia never connects her media: after 1 s she is back at the head, the professional freed.
    requeued = await next_of(pro_ws, "requeued", 5)
    assert requeued["reason"] == "no_show"
    await next_of(late_ws, "queue", position=1)
    await next_of(other_ws, "queue", position=2)
    assert quick.app[STORE].current_call(1) is None
    # Called again and again no show: removed, with a message.
    await post_form(quick, "/profissional", "/profissional/atender", {})
    removed = await next_of(late_ws, "removed", 5)
    assert "não se conectou" in removed["message"]
    await next_of(other_ws, "queue", position=1, waiting=1)


async def start_call(aiohttp_client: ClientMaker, pro: TestClient, seed: int) -> tuple[Any, Any]:
    """A patient taken by the professional logged in on `pro`; both pages open."""
    patient = await aiohttp_client(pro.server)
    await register_patient(patient, seed)
    await approved_professional(pro)
    pro_ws = await open_ws(pro, "professional")
    await post_form(pro, "/profissional", "/profissional/atender", {})
    patient_ws = await open_ws(patient, "patient")
    await next_of(patient_ws, "hello")
    return patient_ws, pro_ws


async def test_lost_professional_sends_the_patient_back_to_the_head(
    aiohttp_client: ClientMaker, lossy: TestClient
) -> None:
    patient_ws, pro_ws = await start_call(aiohttp_client, lossy, 121)
    await pro_ws.close()  # the professional's browser vanishes
    message = await next_of(patient_ws, "requeued", 5)
    assert (
        message["message"] == "O profissional perdeu a conexão. Você voltou para o início da fila."
    )
    ticket = lossy.app[STORE].active_ticket(1)
    assert ticket is not None and ticket.state is State.WAITING and ticket.requeued


async def test_lost_patient_ends_the_call_and_frees_the_professional(
    aiohttp_client: ClientMaker, lossy: TestClient
) -> None:
    patient_ws, pro_ws = await start_call(aiohttp_client, lossy, 131)
    await patient_ws.close()
    ended = await next_of(pro_ws, "call_ended", 5)
    assert (ended["by"], ended["reason"]) == ("patient", "lost")
    assert lossy.app[STORE].current_call(1) is None
    page = await lossy.get("/profissional?aviso=lost")
    assert "O paciente perdeu a conexão" in await page.text()


async def test_queue_survives_a_restart_in_the_same_order(
    aiohttp_client: ClientMaker, config: Config
) -> None:
    first = await aiohttp_client(create_app(config))
    names = ["Ana Um", "Bruno Dois", "Carla Tres", "Davi Quatro"]
    births = ["1990-01-01", "1950-01-01", "1990-01-01", "1940-01-01"]  # 60+ and 80+ go first
    clients = [first] + [await aiohttp_client(first.server) for _ in names[1:]]
    for i, (c, name, born) in enumerate(zip(clients, names, births, strict=True)):
        await register_patient(c, 141 + i, name=name, born=born)
    before = [(w.ticket_id, w.first_name) for w in first.app[STORE].waiting()]
    assert [name for _, name in before] == ["Davi", "Bruno", "Ana", "Carla"]
    cookies = [c.session.cookie_jar.filter_cookies(c.make_url("/")) for c in clients]
    await first.server.close()

    second = await aiohttp_client(create_app(config))
    assert [(w.ticket_id, w.first_name) for w in second.app[STORE].waiting()] == before
    # A page that reconnects (same session cookie) finds its place.
    second.session.cookie_jar.update_cookies(cookies[3])
    ws = await open_ws(second, "patient")
    assert (await next_of(ws, "queue"))["position"] == 1


@pytest.mark.parametrize("waiting", [1, 2, 30])
async def test_twenty_professionals_take_at_once(
    aiohttp_client: ClientMaker, client: TestClient, waiting: int
) -> None:
    store = client.app[STORE]
    pros = [client] + [await aiohttp_client(client.server) for _ in range(19)]
    for i, pro in enumerate(pros):
        await approved_professional(pro, email=f"pro{i}@example.org")
    patients = [await aiohttp_client(client.server) for _ in range(waiting)]
    for round_ in range(3):
        for i, patient in enumerate(patients):
            if round_ == 0:
                await register_patient(patient, 200 + i)
            else:
                await post_form(
                    patient,
                    "/paciente/termos",
                    "/paciente/termos",
                    {"accept": "yes", "version": "1"},
                )
        pages = await asyncio.gather(
            *(pro.get("/profissional") for pro in pros)
        )  # each professional has their form open ...
        tokens = [
            (await p.text()).split('name="csrf_token" value="')[1].split('"')[0] for p in pages
        ]
        await asyncio.gather(  # ... and they all click "Atender próximo" at the same moment
            *(
                pro.post("/profissional/atender", data={"csrf_token": t})
                for pro, t in zip(pros, tokens, strict=True)
            )
        )
        calls = store.calls()
        assert len(calls) == min(waiting, 20)
        assert len({c.patient_id for c in calls}) == len(calls)  # each patient taken once
        assert len({c.professional_id for c in calls}) == len(calls)  # one call per professional
        assert len(store.waiting()) == max(0, waiting - 20)
        for call in calls:
            store.move(call.id, State.ENDED)
        for rest in store.waiting():
            store.move(rest.ticket_id, State.LEFT)


async def test_removal_by_a_professional_reaches_the_patient(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 151)
    patient_ws = await open_ws(patient, "patient")
    await next_of(patient_ws, "queue")
    await patient_ws.send_json({"type": "remove", "ticket": 1, "reason": "pedido"})
    assert (await next_of(patient_ws, "error"))["code"] == "unknown_type"  # not for patients
    await approved_professional(client)
    pro_ws = await open_ws(client, "professional")
    await pro_ws.send_json({"type": "remove", "ticket": 1, "reason": "qualquer"})
    assert (await next_of(pro_ws, "error"))["code"] == "invalid_field"
    await pro_ws.send_json({"type": "remove", "ticket": 1, "reason": "outro_canal"})
    removed = await next_of(patient_ws, "removed")
    assert removed["message"] == (
        "Você foi retirado da fila pela equipe: o atendimento será feito por outro canal."
    )
    assert (await next_of(pro_ws, "waiting_list"))["patients"] == []
    await pro_ws.send_json({"type": "remove", "ticket": 1, "reason": "outro_canal"})
    assert (await next_of(pro_ws, "error"))["code"] == "not_removed"


async def test_availability_changes_what_patients_are_told(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 161)
    patient_ws = await open_ws(patient, "patient")
    await next_of(patient_ws, "queue", professionals=0)
    await approved_professional(client)
    pro_ws = await open_ws(client, "professional")
    hello = await next_of(pro_ws, "hello")
    assert hello["available"] is True
    place = await next_of(patient_ws, "queue", professionals=1)
    assert place["estimate"] == "Espera estimada: até 15 min"
    await pro_ws.send_json({"type": "availability", "available": False})
    assert (await next_of(pro_ws, "availability"))["available"] is False
    await next_of(patient_ws, "queue", professionals=0)


async def test_chat_during_the_call(aiohttp_client: ClientMaker, client: TestClient) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 171)
    await approved_professional(client)
    pro_ws = await open_ws(client, "professional")
    patient_ws = await open_ws(patient, "patient")
    await patient_ws.send_json({"type": "chat", "text": "olá"})
    assert (await next_of(patient_ws, "error"))["code"] == "not_in_call"
    await post_form(client, "/profissional", "/profissional/atender", {})
    await patient_ws.send_json({"type": "chat", "text": "  <b>Estou</b> ouvindo  "})
    for ws in (patient_ws, pro_ws):
        message = await next_of(ws, "chat")
        assert (message["from"], message["text"]) == ("patient", "<b>Estou</b> ouvindo")
    await pro_ws.send_json({"type": "chat", "text": "x" * 1001})
    assert "1 a 1000 caracteres" in (await next_of(pro_ws, "error"))["message"]
    # A reloaded call page gets the conversation so far.
    again = await open_ws(patient, "patient")
    history = await next_of(again, "chat_history")
    assert [m["text"] for m in history["messages"]] == ["<b>Estou</b> ouvindo"]
    # Nothing is kept after the call (keep_after_call = false). The media never connected
    # here, so ending it sends the patient back to the head of the queue.
    await pro_ws.send_json({"type": "hangup"})
    await next_of(pro_ws, "requeued")
    count = client.app[STORE].db.execute("SELECT COUNT(*) FROM chat_messages").fetchone()[0]
    assert count == 0


async def test_a_professional_leaving_changes_the_count(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 181)
    patient_ws = await open_ws(patient, "patient")
    await approved_professional(client)
    pro_ws = await open_ws(client, "professional")
    await next_of(patient_ws, "queue", professionals=1)
    await pro_ws.close()
    place = await next_of(patient_ws, "queue", professionals=0)
    assert place["estimate"] == "Nenhum profissional disponível agora. Você continua na fila."


# -- a browser that vanishes without hanging up (tab killed, network gone) -------------------

SILENCE = 1.0  # the relay's silence timeout here (15 s by default: tests/relay/test_liveness.py)
DETECTION_LIMIT = 35.0  # issue 4: a vanished browser is detected within 35 s


@pytest.fixture
async def vanishing(aiohttp_client: ClientMaker, tmp_path: Path) -> TestClient:
    """Media taken as gone after 1 s of silence; a side without media lost 2 s after that."""
    config = make_config(tmp_path, queue={"call_grace_seconds": 2, "no_show_seconds": 60})
    relay = Relay(dataclasses.replace(relay_config(config), silence_timeout_seconds=SILENCE))
    return await aiohttp_client(create_app(config, relay))


async def media_call(aiohttp_client: ClientMaker, pro: TestClient, seed: int) -> Call:
    """A patient called by the professional logged in on pro, both media legs up: in call."""
    patient = await aiohttp_client(pro.server)
    await register_patient(patient, seed)
    await approved_professional(pro)
    await post_form(pro, "/profissional", "/profissional/atender", {})
    call = await start_media_call(patient, pro)
    store = pro.app[STORE]
    await eventually(lambda: getattr(store.active_ticket(1), "state", None) is State.IN_CALL)
    return call


async def test_a_vanished_patient_is_told_to_the_professional_and_ends_the_call(
    aiohttp_client: ClientMaker, vanishing: TestClient
) -> None:
    call = await media_call(aiohttp_client, vanishing, 191)
    relay = vanishing.app[RELAY]
    try:
        # The tab is killed; its page socket is not closed yet (a network gone unnoticed).
        call.patient_peer.vanish()
        vanished = time.monotonic()
        told = await next_of(call.pro_ws, "peer_connection", DETECTION_LIMIT)
        assert time.monotonic() - vanished < DETECTION_LIMIT
        assert (told["from"], told["state"]) == ("patient", "lost")
        assert relay.connection_state("ticket-1-patient") is None  # closed by the relay
        await eventually(lambda: relay.counters.peer_connections_open == 1, 5)
        # Not back within call_grace_seconds: the call ends as lost, page open or not.
        ended = await next_of(call.pro_ws, "call_ended", 10)
        assert (ended["by"], ended["reason"]) == ("patient", "lost")
        assert (await next_of(call.patient_ws, "call_ended"))["reason"] == "lost"
        assert vanishing.app[STORE].current_call(1) is None
        await eventually(lambda: relay.counters.peer_connections_open == 0, 5)
    finally:
        await call.close()


async def test_a_vanished_professional_sends_the_patient_back_to_the_head(
    aiohttp_client: ClientMaker, vanishing: TestClient
) -> None:
    call = await media_call(aiohttp_client, vanishing, 192)
    try:
        call.pro_peer.vanish()
        told = await next_of(call.patient_ws, "peer_connection", DETECTION_LIMIT)
        assert (told["from"], told["state"]) == ("professional", "lost")
        requeued = await next_of(call.patient_ws, "requeued", 10)
        assert requeued["reason"] == "professional_lost"
        ticket = vanishing.app[STORE].active_ticket(1)
        assert ticket is not None and ticket.state is State.WAITING and ticket.requeued
        relay = vanishing.app[RELAY]
        await eventually(lambda: relay.counters.peer_connections_open == 0, 5)
    finally:
        await call.close()


async def test_media_back_within_the_grace_keeps_the_call(
    aiohttp_client: ClientMaker, vanishing: TestClient
) -> None:
    call = await media_call(aiohttp_client, vanishing, 193)
    store = vanishing.app[STORE]
    again = Client(SolidVideoTrack(40))
    try:
        call.patient_peer.vanish()
        await next_of(call.pro_ws, "peer_connection", DETECTION_LIMIT, state="lost")
        # The patient's page connects its media again (a new offer), within the grace.
        await call.patient_ws.send_json({"type": "offer", "sdp": await again.offer()})
        await again.accept((await next_of(call.patient_ws, "answer"))["sdp"])
        restored = await next_of(call.pro_ws, "peer_connection", 10)
        assert (restored["from"], restored["state"]) == ("patient", "restored")
        frames = len(call.pro_peer.video_frames)
        await eventually(lambda: len(call.pro_peer.video_frames) > frames + 10)
        await eventually(lambda: len(again.video_frames) > 10)
        await asyncio.sleep(3)  # longer than call_grace_seconds: the call goes on
        ticket = store.active_ticket(1)
        assert ticket is not None and ticket.state is State.IN_CALL
    finally:
        await again.close()
        await call.close()


async def test_a_connection_that_fails_is_not_a_no_show(
    aiohttp_client: ClientMaker, quick: TestClient
) -> None:
    """The patient came and offered, but the media never connected (our side or the network):
    back to the head each time, never removed for it."""
    patient = await aiohttp_client(quick.server)
    await register_patient(patient, 161, name="Iara Tentou")
    await approved_professional(quick)
    pro_ws = await open_ws(quick, "professional")
    offer = (ROOT / "tests/relay/offers/chrome-130-desktop.sdp").read_text()  # nobody answers ICE
    for _attempt in range(2):
        await post_form(quick, "/profissional", "/profissional/atender", {})
        patient_ws = await open_ws(patient, "patient")
        assert (await next_of(patient_ws, "hello"))["state"] == "called"
        await patient_ws.send_json({"type": "offer", "sdp": offer})
        await next_of(patient_ws, "answer")
        requeued = await next_of(patient_ws, "requeued", 5)
        assert requeued["reason"] == "no_connection"
        assert "teste de câmera" in requeued["message"]
        await next_of(pro_ws, "requeued")
        await next_of(patient_ws, "queue", position=1)
        await patient_ws.close()
    row = quick.app[STORE].db.execute("SELECT state, no_shows FROM tickets").fetchone()
    assert (row["state"], row["no_shows"]) == ("waiting", 0)


async def test_a_professional_ending_before_the_call_starts_keeps_the_patients_place(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    patient_ws, pro_ws = await start_call(aiohttp_client, client, 171)
    await pro_ws.send_json({"type": "hangup"})
    requeued = await next_of(patient_ws, "requeued")
    assert requeued["reason"] == "professional_hangup"
    await next_of(patient_ws, "queue", position=1)
    assert client.app[STORE].active_ticket(1) is not None


async def test_a_reconnecting_page_gets_its_place_as_the_database_has_it_now(
    aiohttp_client: ClientMaker, client: TestClient, config: Config
) -> None:
    """Pages connecting reuse the places last worked out only while the database is unchanged:
    a change written by this process or by another one is seen at once."""
    first, second = await aiohttp_client(client.server), await aiohttp_client(client.server)
    await register_patient(first, 171, name="Ana Primeira")
    await register_patient(second, 172, name="Bia Segunda")
    for _ in range(2):  # the second reconnect is served from the places worked out before
        ws = await open_ws(second, "patient")
        assert (await next_of(ws, "queue"))["position"] == 2
        await ws.close()
    with sqlite3.connect(config.database_path) as other_process:
        other_process.execute("UPDATE tickets SET state = 'left' WHERE id = 1")
    ws = await open_ws(second, "patient")
    assert (await next_of(ws, "queue"))["position"] == 1
    await ws.close()
