import asyncio
import json
from typing import Any

from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient

from tests.integration.conftest import post_form
from tests.integration.flows import approved_professional, register_patient


def origin(client: TestClient) -> str:
    return f"http://{client.server.host}:{client.server.port}"


async def open_ws(client: TestClient, role: str):
    return await client.ws_connect(f"/ws?role={role}", origin=origin(client))


async def next_of(ws, kind: str, wait_s: float = 5.0, **expected: Any) -> dict[str, Any]:
    """The next message of a type whose fields have the expected values (others skipped)."""

    async def wait() -> dict[str, Any]:
        while True:
            message = await ws.receive_json()
            if message["type"] == kind and all(message.get(k) == v for k, v in expected.items()):
                return message

    return await asyncio.wait_for(wait(), wait_s)


async def test_upgrade_needs_same_origin_and_a_session(client: TestClient) -> None:
    await register_patient(client, 31)
    try:
        await client.ws_connect("/ws?role=patient", origin="http://evil.example")
        raise AssertionError("cross-origin upgrade was accepted")
    except WSServerHandshakeError as exc:
        assert exc.status == 403
    try:
        await client.ws_connect("/ws?role=professional", origin=origin(client))
        raise AssertionError("a patient opened a professional socket")
    except WSServerHandshakeError as exc:
        assert exc.status == 401


async def test_position_updates_when_someone_ahead_leaves(aiohttp_client, client) -> None:
    first = client
    second = await aiohttp_client(client.server)
    await register_patient(first, 41, name="Ana Primeira")
    await register_patient(second, 42, name="Bia Segunda")
    ws1 = await open_ws(first, "patient")
    ws2 = await open_ws(second, "patient")
    assert (await next_of(ws1, "queue"))["position"] == 1
    place = await next_of(ws2, "queue")
    assert (place["position"], place["waiting"], place["professionals"]) == (2, 2, 0)
    assert place["estimate"] == "Nenhum profissional disponível agora. Você continua na fila."
    await ws1.send_json({"type": "leave"})
    assert (await next_of(ws1, "left"))["type"] == "left"
    place = await next_of(ws2, "queue")
    assert (place["position"], place["waiting"]) == (1, 1)


async def test_second_tab_replaces_the_first(client: TestClient) -> None:
    await register_patient(client, 51)
    ws1 = await open_ws(client, "patient")
    await next_of(ws1, "queue")
    ws2 = await open_ws(client, "patient")
    assert (await next_of(ws1, "replaced"))["type"] == "replaced"
    assert (await next_of(ws2, "queue"))["position"] == 1


async def test_invalid_messages_get_an_error_not_a_crash(client: TestClient) -> None:
    await register_patient(client, 61)
    ws = await open_ws(client, "patient")
    await next_of(ws, "queue")
    cases = [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        (json.dumps({"type": "take_next"}), "unknown_type"),
        (json.dumps({"kind": "offer"}), "unknown_type"),
        (json.dumps({"type": "offer", "sdp": 5}), "invalid_field"),
        (json.dumps({"type": "offer", "sdp": "v=0"}), "not_in_call"),
        (json.dumps({"type": "hangup"}), "not_in_call"),
    ]
    for raw, code in cases:
        await ws.send_str(raw)
        error = await next_of(ws, "error")
        assert error["code"] == code, raw
        assert error["message"]
    # The socket still works and the patient kept the place.
    await ws.send_json({"type": "leave"})
    assert (await next_of(ws, "left"))["type"] == "left"


async def test_professional_sees_the_list_and_the_patient_is_called(
    aiohttp_client, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await approved_professional(client)
    pro_ws = await open_ws(client, "professional")
    first = await next_of(pro_ws, "waiting_list")
    assert first["patients"] == []
    await register_patient(patient, 71, name="Carla Dias Souza")
    listing = await next_of(pro_ws, "waiting_list")
    assert [(p["position"], p["first_name"]) for p in listing["patients"]] == [(1, "Carla")]
    assert "Souza" not in json.dumps(listing)  # only the first name travels
    patient_ws = await open_ws(patient, "patient")
    await next_of(patient_ws, "queue")
    resp = await post_form(client, "/profissional", "/profissional/atender", {})
    assert resp.url.path == "/profissional/consulta"
    assert (await next_of(patient_ws, "called"))["type"] == "called"
    assert (await next_of(pro_ws, "waiting_list"))["patients"] == []


async def test_bad_offer_keeps_the_place(aiohttp_client, client: TestClient) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 81)
    await approved_professional(client)
    await post_form(client, "/profissional", "/profissional/atender", {})
    ws = await open_ws(patient, "patient")
    assert (await next_of(ws, "hello"))["state"] == "called"
    await ws.send_json({"type": "offer", "sdp": "this is not sdp"})
    error = await next_of(ws, "error")
    assert error["code"] == "offer_rejected"
    assert "Recarregue a página" in error["message"] or "navegador" in error["message"]
    resp = await patient.get("/paciente/consulta")
    assert resp.status == 200  # still in the visit


async def test_camera_and_microphone_state_reaches_the_other_side(
    aiohttp_client, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 91)
    await approved_professional(client)
    pro_ws = await open_ws(client, "professional")
    patient_ws = await open_ws(patient, "patient")
    await next_of(patient_ws, "queue")
    await patient_ws.send_json({"type": "media_state", "camera": True, "mic": True})
    assert (await next_of(patient_ws, "error"))["code"] == "not_in_call"
    await post_form(client, "/profissional", "/profissional/atender", {})
    await next_of(patient_ws, "called")

    for bad in ({"camera": "no", "mic": True}, {"camera": False}, {"camera": 0, "mic": 1}):
        await patient_ws.send_json({"type": "media_state", **bad})
        assert (await next_of(patient_ws, "error"))["code"] == "invalid_field", bad

    # Each side's change goes to the other side only, saying whose it is.
    await patient_ws.send_json({"type": "media_state", "camera": False, "mic": True})
    state = await next_of(pro_ws, "media_state")
    assert state == {"type": "media_state", "from": "patient", "camera": False, "mic": True}
    await pro_ws.send_json({"type": "media_state", "camera": True, "mic": False})
    state = await next_of(patient_ws, "media_state")
    assert state == {"type": "media_state", "from": "professional", "camera": True, "mic": False}

    # The same state again is not passed on; a change is.
    await patient_ws.send_json({"type": "media_state", "camera": False, "mic": True})
    await patient_ws.send_json({"type": "media_state", "camera": True, "mic": True})
    state = await next_of(pro_ws, "media_state")
    assert (state["camera"], state["mic"]) == (True, True)

    # A page that reconnects during the call learns the other side's latest state.
    again = await open_ws(client, "professional")
    assert (await next_of(again, "hello"))["state"] == "called"
    state = await next_of(again, "media_state")
    assert (state["from"], state["camera"], state["mic"]) == ("patient", True, True)
    await patient_ws.send_json({"type": "hangup"})
    await next_of(patient_ws, "call_ended")
