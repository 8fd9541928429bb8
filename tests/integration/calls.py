"""A call through the whole app in-process: the pages' sockets and real aiortc peers as browsers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from tests.integration.test_signaling import next_of, open_ws
from tests.relay.clients import Client, SolidVideoTrack, eventually


@dataclass
class Call:
    """Both sides of a call: their sockets and their media peers (patient dark, professional
    bright, so each can tell whose picture it gets)."""

    patient_ws: Any
    pro_ws: Any
    patient_peer: Client
    pro_peer: Client

    async def close(self) -> None:
        await self.patient_peer.close()
        await self.pro_peer.close()


async def start_call(patient: TestClient, pro: TestClient) -> Call:
    """With the patient already called: open both call pages, offer, wait until each side
    sees the other's picture and hears audio."""
    patient_ws = await open_ws(patient, "patient")
    pro_ws = await open_ws(pro, "professional")
    assert (await next_of(patient_ws, "hello"))["state"] == "called"
    assert (await next_of(pro_ws, "hello"))["state"] == "called"
    call = Call(patient_ws, pro_ws, Client(SolidVideoTrack(40)), Client(SolidVideoTrack(210)))
    try:
        for ws, peer in ((patient_ws, call.patient_peer), (pro_ws, call.pro_peer)):
            await ws.send_json({"type": "offer", "sdp": await peer.offer()})
            await peer.accept((await next_of(ws, "answer"))["sdp"])
        await eventually(
            lambda: len(call.patient_peer.video_frames) > 10 and call.pro_peer.audio_frames > 10
        )
        await eventually(
            lambda: len(call.pro_peer.video_frames) > 10 and call.patient_peer.audio_frames > 10
        )
    except BaseException:
        await call.close()
        raise
    assert call.patient_peer.video_frames[-1][2] > 180  # the professional's bright frames
    assert call.pro_peer.video_frames[-1][2] < 70  # the patient's dark frames
    return call
