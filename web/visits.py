"""The visit lifecycle: queue changes, take-next, media legs, hang-up, pushed to every page."""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

from relay.relay import Relay
from web.hub import Hub, patient_key, staff_key
from web.queue import Priority, State
from web.store import Staff, Store, Ticket

log = logging.getLogger(__name__)

Side = Literal["patient", "professional"]

PRIORITY_LABELS = {
    Priority.SUPER: "Prioridade 80+",
    Priority.PRIORITY: "Prioridade 60+",
    Priority.NONE: "",
}


def peer_id(ticket_id: int, side: Side) -> str:
    return f"ticket-{ticket_id}-{side}"


def parse_peer_id(value: str) -> tuple[int, Side] | None:
    parts = value.split("-")
    if len(parts) != 3 or parts[0] != "ticket" or not parts[1].isdigit():
        return None
    side = parts[2]
    if side == "patient":
        return int(parts[1]), "patient"
    if side == "professional":
        return int(parts[1]), "professional"
    return None


class Visits:
    """Glue between the store (what is true), the relay (media) and the hub (pages)."""

    def __init__(self, store: Store, relay: Relay, hub: Hub) -> None:
        self.store = store
        self.relay = relay
        self.hub = hub
        relay.on_state_change = self._peer_state_changed

    # -- the queue ------------------------------------------------------------------

    async def push_queue(self) -> None:
        """Send every waiting patient their position and every professional the list."""
        waiting = self.store.waiting()
        total = len(waiting)
        for entry in waiting:
            ticket = self.store.ticket(entry.ticket_id)
            if ticket is not None:
                await self.hub.send(
                    patient_key(ticket.patient_id),
                    {"type": "queue", "position": entry.position, "waiting": total},
                )
        listing = self.waiting_list()
        for key in self.hub.keys("staff:"):
            await self.hub.send(key, listing)

    def waiting_list(self) -> dict[str, Any]:
        now = time.time()
        return {
            "type": "waiting_list",
            "patients": [
                {
                    "ticket": e.ticket_id,
                    "position": e.position,
                    "first_name": e.first_name,
                    "waiting_seconds": max(0, int(now - e.arrived_at)),
                    "priority": PRIORITY_LABELS[e.priority],
                }
                for e in self.store.waiting()
            ],
        }

    def position(self, ticket_id: int) -> tuple[int, int] | None:
        waiting = self.store.waiting()
        for entry in waiting:
            if entry.ticket_id == ticket_id:
                return entry.position, len(waiting)
        return None

    async def join(self, patient_id: int, priority: Priority) -> Ticket:
        ticket = self.store.join_queue(patient_id, priority)
        log.info("ticket %d: patient %d in state %s", ticket.id, patient_id, ticket.state)
        await self.push_queue()
        return ticket

    async def leave(self, ticket: Ticket, reason: str) -> bool:
        moved = self.store.move(ticket.id, State.LEFT, reason=reason)
        if moved is None:
            return False
        log.info("ticket %d: left the queue (%s)", ticket.id, reason)
        await self.push_queue()
        return True

    # -- calls ----------------------------------------------------------------------

    async def take_next(self, professional: Staff) -> Ticket | None:
        ticket = self.store.take_next(professional.id)
        if ticket is None:
            return None
        self.relay.pair(peer_id(ticket.id, "patient"), peer_id(ticket.id, "professional"))
        log.info("ticket %d: called by professional %d", ticket.id, professional.id)
        await self.hub.send(patient_key(ticket.patient_id), {"type": "called"})
        await self.push_queue()
        return ticket

    async def answer(self, ticket: Ticket, side: Side, offer_sdp: str) -> str:
        """Open (or reopen) this side's media leg; raises relay OfferError for bad offers."""
        return await self.relay.answer(peer_id(ticket.id, side), offer_sdp)

    async def hang_up(self, ticket: Ticket, by: Side) -> bool:
        ended = self.store.move(ticket.id, State.ENDED, reason=f"{by}_hangup")
        if ended is None:
            return False
        log.info("ticket %d: ended by %s", ticket.id, by)
        await self._close_media(ticket.id)
        message = {"type": "call_ended", "by": by}
        await self.hub.send(patient_key(ticket.patient_id), message)
        if ticket.professional_id is not None:
            await self.hub.send(staff_key(ticket.professional_id), message)
        await self.push_queue()
        return True

    async def _close_media(self, ticket_id: int) -> None:
        patient_peer = peer_id(ticket_id, "patient")
        self.relay.unpair(patient_peer)
        await self.relay.close_peer(patient_peer)
        await self.relay.close_peer(peer_id(ticket_id, "professional"))

    def _peer_state_changed(self, peer: str, state: str) -> None:
        parsed = parse_peer_id(peer)
        if parsed is None:
            return
        ticket_id, side = parsed
        log.info("ticket %d: %s media %s", ticket_id, side, state)
        if state != "connected":
            return
        other: Side = "professional" if side == "patient" else "patient"
        if self.relay.connection_state(peer_id(ticket_id, other)) == "connected":
            ticket = self.store.move(ticket_id, State.IN_CALL)
            if ticket is not None:
                log.info("ticket %d: in call", ticket_id)
