"""The device test through the app: the patient's page sends media, the server judges it."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional
from tests.integration.test_signaling import next_of, open_ws
from tests.relay.clients import Client, SineAudioTrack, SolidVideoTrack
from tests.support import make_config, make_cpf
from web.app import create_app
from web.keys import STORE


async def patient_on_test_page(client: TestClient, seed: int) -> None:
    resp = await post_form(
        client, "/paciente", "/paciente/cadastro",
        {"cpf": make_cpf(seed), "full_name": "Teresa Teste", "birth_date": "1970-03-03",
         "phone": "61999998888"},
    )  # fmt: skip
    assert resp.url.path == "/paciente/teste"
    assert "Teste de câmera e microfone" in await resp.text()


async def test_the_server_measures_and_judges_the_test_stream(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path, device_test={"seconds": 3})))
    await patient_on_test_page(client, 601)
    ws = await open_ws(client, "patient")
    await next_of(ws, "hello")
    peer = Client(SolidVideoTrack(8), audio=SineAudioTrack(dbfs=-6))  # a dark, covered camera
    try:
        await ws.send_json({"type": "probe_offer", "sdp": await peer.offer()})
        await peer.accept((await next_of(ws, "probe_answer"))["sdp"])
        progress = await next_of(ws, "probe_progress", 5)
        assert progress["seconds"] < 3
        result = await next_of(ws, "probe_result", 10)
    finally:
        await peer.close()
    levels = {v["item"]: (v["level"], v["text"]) for v in result["verdicts"]}
    assert levels["camera"][0] == "problem"
    assert "Sua câmera parece coberta ou o ambiente está escuro" in levels["camera"][1]
    assert levels["microphone"] == ("ok", "Microfone funcionando.")
    assert result["video"]["width"] == 320 and result["audio"]["silent"] is False
    assert len(peer.video_frames) > 0  # the page got its video back, as the server saw it
    assert result["summary"] == "câmera escura"
    store = client.app[STORE]
    row = store.db.execute("SELECT * FROM device_tests").fetchone()
    assert json.loads(row["verdicts"])[0]["item"] == "camera"
    assert client.app[STORE].db.execute("SELECT COUNT(*) FROM device_tests").fetchone()[0] == 1

    # /metrics counts the verdicts by item and level (read from 127.0.0.1, allowed by default).
    metrics = text_string_to_metric_families(await (await client.get("/metrics")).text())
    verdicts = {
        (s.labels["item"], s.labels["level"]): s.value
        for family in metrics
        if family.name == "atende_device_test_verdicts"
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert verdicts[("camera", "problem")] == 1 and verdicts[("camera", "ok")] == 0
    assert verdicts[("microphone", "ok")] == 1 and verdicts[("network", "ok")] == 1
    assert sum(verdicts.values()) == 3

    # The speaker check and the summary reach the professional's list.
    await post_form(client, "/paciente/teste", "/paciente/teste", {"speaker": "no"})
    await post_form(
        client, "/paciente/termos", "/paciente/termos", {"accept": "yes", "version": "1"}
    )
    pro = await aiohttp_client(client.server)
    await approved_professional(pro)
    pro_ws = await open_ws(pro, "professional")
    listing = await next_of(pro_ws, "waiting_list")
    assert listing["patients"][0]["device"] == "câmera escura, não ouviu o som"


async def test_too_many_tests_at_once_are_refused_clearly(
    aiohttp_client: ClientMaker, tmp_path: Path
) -> None:
    config = make_config(tmp_path, device_test={"seconds": 5, "max_running": 1})
    first = await aiohttp_client(create_app(config))
    second = await aiohttp_client(first.server)
    peers = [Client(SolidVideoTrack(128)), Client(SolidVideoTrack(128))]
    try:
        for seed, (client, peer) in enumerate(zip((first, second), peers, strict=True)):
            await patient_on_test_page(client, 611 + seed)
            ws = await open_ws(client, "patient")
            await ws.send_json({"type": "probe_offer", "sdp": await peer.offer()})
            if client is first:
                await peer.accept((await next_of(ws, "probe_answer"))["sdp"])
            else:
                error = await next_of(ws, "error")
                assert (error["code"], error["reason"]) == ("offer_rejected", "busy")
                assert error["message"].startswith("Muitos testes em andamento agora.")
    finally:
        for peer in peers:
            await peer.close()


async def test_no_device_test_during_a_call(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    patient = await aiohttp_client(client.server)
    await patient_on_test_page(patient, 621)
    accept = {"accept": "yes", "version": "1"}
    await post_form(patient, "/paciente/termos", "/paciente/termos", accept)
    await approved_professional(client)
    await post_form(client, "/profissional", "/profissional/atender", {})
    ws = await open_ws(patient, "patient")
    await ws.send_json({"type": "probe_offer", "sdp": "v=0"})
    assert (await next_of(ws, "error"))["code"] == "not_now"
    page = await patient.get("/paciente/teste")
    assert page.url.path == "/paciente/consulta"
