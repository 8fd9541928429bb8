"""A call through the whole app in-process: signaling over the WebSocket, real aiortc peers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from relay.aiortc_hooks import sender_encoder
from tests.integration.calls import start_call
from tests.integration.conftest import post_form
from tests.integration.flows import approved_professional, register_patient
from tests.integration.test_signaling import next_of
from tests.relay.clients import eventually
from tests.support import make_config
from web.config import Config
from web.keys import RELAY, STORE
from web.queue import State


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """Relay statistics sampled every second, so /metrics has rates during the call."""
    return make_config(tmp_path, metrics={"sample_seconds": 1})


Sample = tuple[str, frozenset[tuple[str, str]]]


def sample(name: str, **labels: str) -> Sample:
    return name, frozenset(labels.items())


async def metric_values(client: TestClient) -> dict[Sample, float]:
    """/metrics read with prometheus-client's own parser: sample(name, **labels) -> value."""
    resp = await client.get("/metrics")  # from 127.0.0.1, an allowed address by default
    assert resp.status == 200
    return {
        sample(s.name, **s.labels): s.value
        for family in text_string_to_metric_families(await resp.text())
        for s in family.samples
    }


async def check_metrics_during_call(client: TestClient) -> None:
    """The relay's series hold plausible values while two peers send to each other."""
    wanted = (
        sample("atende_relay_bitrate_kbps", kind="video", direction="in"),
        sample("atende_relay_round_trip_ms"),  # after the browsers' first receiver reports
    )
    for _ in range(100):  # a rate needs two of the monitor's samples
        values = await metric_values(client)
        if all(values.get(key, 0) > 0 for key in wanted):
            break
        await asyncio.sleep(0.1)
    assert values[sample("atende_calls_active", state="in_call")] == 1
    assert values[sample("atende_queue_waiting")] == 0
    assert values[sample("atende_relay_peer_connections")] == 2
    for kind in ("video", "audio"):
        for direction in ("in", "out"):
            bitrate = values[sample("atende_relay_bitrate_kbps", kind=kind, direction=direction)]
            assert 0.5 < bitrate < 20_000, (kind, direction, bitrate)
            loss = sample("atende_relay_packet_loss_percent", kind=kind, direction=direction)
            assert 0 <= values[loss] <= 5
        assert 0 < values[sample("atende_relay_jitter_ms", kind=kind)] < 200
    assert 0 < values[sample("atende_relay_round_trip_ms")] < 500
    assert values[sample("atende_relay_frames_forwarded_total")] > 20


async def test_call_media_is_forwarded_not_transcoded(aiohttp_client, client: TestClient) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 91)
    await approved_professional(client)
    await post_form(client, "/profissional", "/profissional/atender", {})
    relay = client.app[RELAY]
    store = client.app[STORE]

    call = await start_call(patient, client)
    patient_ws, pro_ws = call.patient_ws, call.pro_ws
    patient_peer, pro_peer = call.patient_peer, call.pro_peer
    try:
        # Both legs up: the visit is in call.
        await eventually(lambda: getattr(store.active_ticket(1), "state", None) is State.IN_CALL)

        await check_metrics_during_call(client)

        # Forwarded, not transcoded: no real decoder, no video encoding on the relay.
        counters = relay.counters
        # every video frame the two peers decoded was handed over by the forwarder
        assert counters.packets_forwarded >= len(patient_peer.video_frames) + len(
            pro_peer.video_frames
        )
        assert counters.real_decoders == 0
        assert counters.passthrough_decoders >= 4
        for side in ("patient", "professional"):
            peer = relay.peer(f"ticket-1-{side}")
            assert peer is not None
            video_sender = next(t.sender for t in peer.pc.getTransceivers() if t.kind == "video")
            assert sender_encoder(video_sender).codec is None  # packed, never encoded

        # The professional hangs up: both pages are told, the media legs close.
        await pro_ws.send_json({"type": "hangup"})
        assert (await next_of(patient_ws, "call_ended"))["by"] == "professional"
        assert (await next_of(pro_ws, "call_ended"))["by"] == "professional"
        assert (
            relay.peer("ticket-1-patient") is None and relay.peer("ticket-1-professional") is None
        )
        assert relay.counters.peer_connections_open == 0
    finally:
        await call.close()
