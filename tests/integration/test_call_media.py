"""A call through the whole app in-process: signaling over the WebSocket, real aiortc peers."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from relay.aiortc_hooks import sender_encoder
from tests.integration.conftest import post_form
from tests.integration.flows import approved_professional, register_patient
from tests.integration.test_signaling import next_of, open_ws
from tests.relay.clients import Client, SolidVideoTrack, eventually
from web.keys import RELAY, STORE
from web.queue import State


async def test_call_media_is_forwarded_not_transcoded(aiohttp_client, client: TestClient) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 91)
    await approved_professional(client)
    await post_form(client, "/profissional", "/profissional/atender", {})
    relay = client.app[RELAY]
    store = client.app[STORE]

    patient_ws = await open_ws(patient, "patient")
    pro_ws = await open_ws(client, "professional")
    assert (await next_of(patient_ws, "hello"))["state"] == "called"
    assert (await next_of(pro_ws, "hello"))["state"] == "called"

    patient_peer = Client(SolidVideoTrack(40))  # dark picture
    pro_peer = Client(SolidVideoTrack(210))  # bright picture
    try:
        for ws, peer in ((patient_ws, patient_peer), (pro_ws, pro_peer)):
            await ws.send_json({"type": "offer", "sdp": await peer.offer()})
            await peer.accept((await next_of(ws, "answer"))["sdp"])

        # Each side sees the other's picture, and hears audio.
        await eventually(lambda: len(patient_peer.video_frames) > 10 and pro_peer.audio_frames > 10)
        await eventually(lambda: len(pro_peer.video_frames) > 10 and patient_peer.audio_frames > 10)
        assert patient_peer.video_frames[-1][2] > 180  # the professional's bright frames
        assert pro_peer.video_frames[-1][2] < 70  # the patient's dark frames

        # Both legs up: the visit is in call.
        await eventually(lambda: getattr(store.active_ticket(1), "state", None) is State.IN_CALL)

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
        await patient_peer.close()
        await pro_peer.close()
