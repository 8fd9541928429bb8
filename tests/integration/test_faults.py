"""Faults around the server itself (docs/faults.md lists every fault, what must happen and its
test): a restart with a call running; the browsers' own faults are in test_lifecycle.py."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.integration.calls import start_call
from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional, register_patient
from tests.integration.test_signaling import next_of, open_ws
from tests.relay.clients import Client, SolidVideoTrack, eventually
from web.app import create_app
from web.config import Config
from web.keys import STORE
from web.queue import State


def cookies_of(client: TestClient) -> Any:
    """A browser's cookies for the site, to carry over to the restarted server."""
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))


async def test_a_restart_during_a_call_keeps_the_call_and_the_queue(
    aiohttp_client: ClientMaker, config: Config
) -> None:
    first = await aiohttp_client(create_app(config))
    patient = await aiohttp_client(first.server)
    waiting = await aiohttp_client(first.server)
    await register_patient(patient, 5101)
    await register_patient(waiting, 5102, name="Olga Espera")
    await approved_professional(first)
    await post_form(first, "/profissional", "/profissional/atender", {})
    call = await start_call(patient, first)
    ticket = first.app[STORE].current_call(1)
    assert ticket is not None
    await eventually(
        lambda: getattr(first.app[STORE].ticket(ticket.id), "state", None) is State.IN_CALL
    )
    await call.close()
    browsers = {
        "pro": cookies_of(first),
        "patient": cookies_of(patient),
        "waiting": cookies_of(waiting),
    }
    await first.server.close()  # the process stops: sockets and media connections drop

    # The server starts again on the same database; the pages reconnect with their cookies.
    second = await aiohttp_client(create_app(config))
    pro_again = await aiohttp_client(second.server)
    patient_again = await aiohttp_client(second.server)
    waiting_again = await aiohttp_client(second.server)
    pro_again.session.cookie_jar.update_cookies(browsers["pro"])
    patient_again.session.cookie_jar.update_cookies(browsers["patient"])
    waiting_again.session.cookie_jar.update_cookies(browsers["waiting"])

    # The one waiting keeps the place; the call is still the same call.
    queue_ws = await open_ws(waiting_again, "patient")
    assert (await next_of(queue_ws, "queue"))["position"] == 1
    patient_ws = await open_ws(patient_again, "patient")
    pro_ws = await open_ws(pro_again, "professional")
    assert (await next_of(patient_ws, "hello"))["state"] == "in_call"
    assert (await next_of(pro_ws, "hello"))["state"] == "in_call"
    assert second.app[STORE].current_call(1) == second.app[STORE].ticket(ticket.id)

    # New media connections from both pages: media flows again through the new relay.
    patient_peer, pro_peer = Client(SolidVideoTrack(40)), Client(SolidVideoTrack(210))
    try:
        for ws, peer in ((patient_ws, patient_peer), (pro_ws, pro_peer)):
            await ws.send_json({"type": "offer", "sdp": await peer.offer()})
            await peer.accept((await next_of(ws, "answer"))["sdp"])
        await eventually(lambda: len(patient_peer.video_frames) > 10)
        await eventually(lambda: len(pro_peer.video_frames) > 10)
        assert patient_peer.video_frames[-1][2] > 180 and pro_peer.video_frames[-1][2] < 70
        await pro_ws.send_json({"type": "hangup"})
        assert (await next_of(patient_ws, "call_ended"))["by"] == "professional"
    finally:
        await patient_peer.close()
        await pro_peer.close()
