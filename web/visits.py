"""The visit lifecycle: queue changes, take-next, media legs, timers, hang-up; pushed to pages.

The rules of order and state live in web/queue.py (pure); this module applies them as time
passes and pages come and go. Timers (all from config [queue]):
- grace: a waiting patient with no open page for grace_seconds loses the place;
- no_show: a called patient whose media is not connected after no_show_seconds goes back to the
  head of the queue once, then is removed;
- lost: a side of a call with no open page, or whose media connection ended during the call and
  has not come back, for call_grace_seconds: a lost professional sends the patient back to the
  head of the queue; a lost patient ends the call. The relay tells when a browser's media
  connection ends by itself (it sent nothing for the relay's silence timeout: tab killed, network
  gone; or it closed it): the other page is told at once (`peer_connection`).
After a restart every timer starts again from zero for what the database holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any, Literal

from relay.relay import Relay
from web import device_check, queue
from web.config import ChatConfig, QueueConfig
from web.estimate import describe, estimate_wait
from web.hub import Hub, patient_key, staff_key
from web.queue import REMOVAL_REASONS, State
from web.store import Patient, Staff, Store, Ticket, WaitingEntry
from web.text import _

log = logging.getLogger(__name__)

Side = Literal["patient", "professional"]


# Chat messages of a call kept in memory (a reconnecting page gets the latest ones).
MAX_CHAT_HISTORY = 200


def peer_id(ticket_id: int, side: Side) -> str:
    return f"ticket-{ticket_id}-{side}"


def parse_peer_id(value: str) -> tuple[int, Side] | None:
    parts = value.split("-")
    if len(parts) != 3 or parts[0] != "ticket" or not parts[1].isdigit():
        return None
    if parts[2] == "patient":
        return int(parts[1]), "patient"
    if parts[2] == "professional":
        return int(parts[1]), "professional"
    return None


class Visits:
    """Glue between the store (what is true), the relay (media) and the hub (pages)."""

    def __init__(
        self, store: Store, relay: Relay, hub: Hub, settings: QueueConfig, chat: ChatConfig
    ) -> None:
        self.store = store
        self.relay = relay
        self.hub = hub
        self.settings = settings
        self.chat_settings = chat
        self._timers: dict[tuple[str, int], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._chats: dict[int, list[dict[str, Any]]] = {}
        self._media_states: dict[tuple[int, Side], dict[str, bool]] = {}  # camera/mic on, per side
        # sides whose media connection ended during the call -> whether the other page was told
        self._media_gone: dict[tuple[int, Side], bool] = {}
        self._offered: set[tuple[int, Side]] = set()  # sides whose page sent an offer this call
        # Every place as last worked out, and the database's change mark it was worked out at
        self._places_at: tuple[tuple[int, int], dict[int, dict[str, Any]]] | None = None
        relay.on_state_change = self._peer_state_changed

    # -- timers ---------------------------------------------------------------------

    def _start_timer(
        self,
        kind: str,
        ticket_id: int,
        seconds: float,
        action: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        self._cancel_timer(kind, ticket_id)
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop((kind, ticket_id), None)
            task = loop.create_task(action())
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

        self._timers[(kind, ticket_id)] = loop.call_later(seconds, fire)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("visit timer failed", exc_info=task.exception())

    def _cancel_timer(self, kind: str, ticket_id: int) -> None:
        handle = self._timers.pop((kind, ticket_id), None)
        if handle is not None:
            handle.cancel()

    def _cancel_timers(self, ticket_id: int) -> None:
        for kind, tid in list(self._timers):
            if tid == ticket_id:
                self._cancel_timer(kind, tid)

    async def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def resume(self) -> None:
        """After a start: every open ticket's timers start again (pages reconnect meanwhile)."""
        for entry in self.store.waiting():
            self._watch_waiting(entry.ticket_id)
        for ticket in self.store.calls():
            if ticket.professional_id is None:  # pragma: no cover - a call always has one
                continue
            self.relay.pair(peer_id(ticket.id, "patient"), peer_id(ticket.id, "professional"))
            if ticket.state is State.CALLED:
                self._watch_no_show(ticket.id)
            self._watch_lost(ticket.id, "patient")
            self._watch_lost(ticket.id, "professional")

    def _watch_waiting(self, ticket_id: int) -> None:
        self._start_timer(
            "grace", ticket_id, self.settings.grace_seconds, lambda: self._grace_over(ticket_id)
        )

    def _watch_no_show(self, ticket_id: int) -> None:
        self._start_timer(
            "no_show", ticket_id, self.settings.no_show_seconds, lambda: self._no_show(ticket_id)
        )

    def _watch_lost(self, ticket_id: int, side: Side) -> None:
        kind = f"lost_{side}"
        self._start_timer(
            kind, ticket_id, self.settings.call_grace_seconds, lambda: self._lost(ticket_id, side)
        )

    # -- pages coming and going ---------------------------------------------------

    def page_opened(self, side: Side, subject_id: int) -> None:
        """A page of this person connected: their ticket's grace timers stop."""
        ticket = self._ticket_of(side, subject_id)
        if ticket is None:
            return
        if side == "patient":
            self._cancel_timer("grace", ticket.id)
        if (ticket.id, side) in self._media_gone:
            self._watch_lost(ticket.id, side)  # back, media still gone: a full grace to reconnect
        else:
            self._cancel_timer(f"lost_{side}", ticket.id)

    async def page_closed(self, side: Side, subject_id: int) -> None:
        """The person's last page closed: start the grace timer of what they hold."""
        key = patient_key(subject_id) if side == "patient" else staff_key(subject_id)
        if self.hub.connected(key):
            return
        ticket = self._ticket_of(side, subject_id)
        if ticket is not None:
            if ticket.state is State.WAITING:
                self._watch_waiting(ticket.id)
            else:
                self._watch_lost(ticket.id, side)
        if side == "professional":
            await self.push_queue()  # one professional fewer: estimates change

    def _ticket_of(self, side: Side, subject_id: int) -> Ticket | None:
        if side == "patient":
            return self.store.active_ticket(subject_id)
        return self.store.current_call(subject_id)

    # -- the queue ------------------------------------------------------------------

    def professionals_online(self) -> tuple[int, int]:
        """(with a page open, of those not paused); busy in a call counts as available."""
        online = available = 0
        for key in self.hub.keys("staff:"):
            staff = self.store.staff(int(key.split(":")[1]))
            if staff is not None:
                online += 1
                available += staff.available
        return online, available

    def professionals_available(self) -> int:
        return self.professionals_online()[1]

    def _places(self, waiting: list[WaitingEntry]) -> dict[int, dict[str, Any]]:
        """Patient id -> their "queue" message: position, count, professionals, estimate."""
        available = self.professionals_available()
        durations = self.store.recent_durations()
        defaults = (
            self.settings.default_call_minutes_low * 60.0,
            self.settings.default_call_minutes_high * 60.0,
        )
        return {
            entry.patient_id: {
                "type": "queue",
                "position": entry.position,
                "waiting": len(waiting),
                "professionals": available,
                "estimate": describe(estimate_wait(entry.position, available, durations, defaults)),
            }
            for entry in waiting
        }

    async def push_queue(self) -> None:
        """Send every waiting patient their place and every professional the list."""
        mark, waiting = self.store.change_mark(), self.store.waiting()
        places = self._places(waiting)
        self._places_at = (mark, places)
        for patient_id, message in places.items():
            await self.hub.send(patient_key(patient_id), message)
        await self.hub.broadcast(self.hub.keys("staff:"), self._waiting_list(waiting))

    async def send_place(self, patient_id: int) -> None:
        """Tell one patient their place (when their page connects). The places last worked out
        serve while nothing was written to the database since, so a thousand pages reconnecting
        at once (a server restart) do not each work out every place (O(n) each); a change the
        database has not seen (a professional's page opening or closing) is pushed to every
        page anyway."""
        mark = self.store.change_mark()
        if self._places_at is None or self._places_at[0] != mark:
            self._places_at = (mark, self._places(self.store.waiting()))
        message = self._places_at[1].get(patient_id)
        if message is not None:
            await self.hub.send(patient_key(patient_id), message)

    def waiting_list(self) -> dict[str, Any]:
        return self._waiting_list(self.store.waiting())

    @staticmethod
    def _waiting_list(waiting: list[WaitingEntry]) -> dict[str, Any]:
        now = time.time()
        return {
            "type": "waiting_list",
            "patients": [
                {
                    "ticket": e.ticket_id,
                    "position": e.position,
                    "first_name": e.first_name,
                    "waiting_seconds": max(0, int(now - e.arrived_at)),
                    "priority": e.priority_label,
                    "device": device_check.summary_text(e.device_summary),
                }
                for e in waiting
            ],
        }

    async def join(self, patient: Patient, declared: list[str]) -> Ticket:
        decision = queue.decide_priority(
            patient.birth_date, date.today(), declared, enabled=self.settings.priority_enabled
        )
        ticket = self.store.join_queue(patient.id, decision)
        log.info("ticket %d: patient %d in state %s", ticket.id, patient.id, ticket.state)
        if ticket.state is State.WAITING and not self.hub.connected(patient_key(patient.id)):
            self._watch_waiting(ticket.id)  # until the waiting page connects
        await self.push_queue()
        return ticket

    async def leave(self, ticket: Ticket, reason: str) -> bool:
        moved = self.store.move(ticket.id, State.LEFT, reason=reason)
        if moved is None:
            return False
        self._cancel_timers(ticket.id)
        log.info("ticket %d: left the queue (%s)", ticket.id, reason)
        await self.push_queue()
        return True

    async def remove(self, ticket_id: int, reason: str, by: Staff) -> bool:
        """Staff take a waiting patient out of the queue, with a reason the patient reads."""
        ticket = self.store.ticket(ticket_id)
        if ticket is None or ticket.state is not State.WAITING or reason not in REMOVAL_REASONS:
            return False
        if not await self.leave(ticket, f"removed:{reason}"):
            return False
        log.info("ticket %d: removed by staff %d (%s)", ticket_id, by.id, reason)
        text = _(
            "Você foi retirado da fila pela equipe: %(reason)s.", reason=REMOVAL_REASONS[reason]
        )
        await self.hub.send(
            patient_key(ticket.patient_id), {"type": "removed", "reason": reason, "message": text}
        )
        return True

    async def _grace_over(self, ticket_id: int) -> None:
        ticket = self.store.ticket(ticket_id)
        if ticket is None or ticket.state is not State.WAITING:
            return
        if self.hub.connected(patient_key(ticket.patient_id)):
            return
        await self.leave(ticket, "disconnected")

    async def set_available(self, staff: Staff, available: bool) -> None:
        self.store.set_available(staff.id, available)
        log.info("staff %d: %s", staff.id, "available" if available else "paused")
        await self.hub.send(staff_key(staff.id), {"type": "availability", "available": available})
        await self.push_queue()

    # -- calls ----------------------------------------------------------------------

    async def take_next(self, professional: Staff) -> Ticket | None:
        ticket, new = self.store.take_next(professional.id)
        if ticket is None or not new:
            return ticket
        self._cancel_timer("grace", ticket.id)
        self.relay.pair(peer_id(ticket.id, "patient"), peer_id(ticket.id, "professional"))
        self._watch_no_show(ticket.id)
        log.info("ticket %d: called by professional %d", ticket.id, professional.id)
        await self.hub.send(patient_key(ticket.patient_id), {"type": "called"})
        await self.push_queue()
        return ticket

    async def answer(self, ticket: Ticket, side: Side, offer_sdp: str) -> str:
        """Open (or reopen) this side's media leg; raises relay OfferError for bad offers."""
        self._offered.add((ticket.id, side))
        return await self.relay.answer(peer_id(ticket.id, side), offer_sdp)

    async def hang_up(self, ticket: Ticket, by: Side, reason: str = "hangup") -> bool:
        current = self.store.ticket(ticket.id)
        if by == "professional" and current is not None and current.state is State.CALLED:
            # The call never started: the patient must not lose the place for it.
            return await self._back_to_head(
                current,
                "professional_hangup",
                _("O profissional encerrou antes de a consulta começar. Você voltou para o início"
                  " da fila."),
            )  # fmt: skip
        ended = self.store.move(ticket.id, State.ENDED, reason=f"{by}_{reason}")
        if ended is None:
            return False
        log.info("ticket %d: ended by %s (%s)", ticket.id, by, reason)
        await self._finish_call(ticket, {"type": "call_ended", "by": by, "reason": reason})
        return True

    async def _release(self, ticket: Ticket) -> None:
        """Forget the call: its timers, what was kept for it, its media connections."""
        self._cancel_timers(ticket.id)
        self._chats.pop(ticket.id, None)
        for side in ("patient", "professional"):
            self._media_gone.pop((ticket.id, side), None)
            self._media_states.pop((ticket.id, side), None)
            self._offered.discard((ticket.id, side))
        patient_peer = peer_id(ticket.id, "patient")
        self.relay.unpair(patient_peer)
        await self.relay.close_peer(patient_peer)
        await self.relay.close_peer(peer_id(ticket.id, "professional"))

    async def _finish_call(self, ticket: Ticket, message: dict[str, Any]) -> None:
        """Media closed, both pages told, the queue pushed (the professional is free)."""
        await self._release(ticket)
        await self._tell_both(ticket, message)

    async def _tell_both(self, ticket: Ticket, message: dict[str, Any]) -> None:
        await self.hub.send(patient_key(ticket.patient_id), message)
        if ticket.professional_id is not None:
            await self.hub.send(staff_key(ticket.professional_id), message)
        await self.push_queue()

    async def _back_to_head(self, ticket: Ticket, why: str, patient_text: str) -> bool:
        """The call did not happen: the patient goes back to the head of the queue. The call's
        media is closed first, so a professional who takes the ticket again starts clean."""
        await self._release(ticket)
        requeued = self.store.move(ticket.id, State.WAITING, reason=why)
        if requeued is None:
            return False
        log.info("ticket %d: back to the head of the queue (%s)", ticket.id, why)
        await self._tell_both(ticket, {"type": "requeued", "reason": why, "message": patient_text})
        if not self.hub.connected(patient_key(ticket.patient_id)):
            self._watch_waiting(ticket.id)
        return True

    async def _no_show(self, ticket_id: int) -> None:
        """The call did not start in time. Only a patient who never came (no page, or a page
        that never offered) counts a no-show; a connection that failed is not their fault."""
        ticket = self.store.ticket(ticket_id)
        if ticket is None or ticket.state is not State.CALLED:
            return
        patient_media = self.relay.connection_state(peer_id(ticket_id, "patient")) == "connected"
        if patient_media:  # the professional's side never connected
            await self._back_to_head(
                ticket,
                "professional_no_media",
                _("O vídeo do profissional não conectou. Você voltou para o início da fila."),
            )
            return
        came = self.hub.connected(patient_key(ticket.patient_id)) and (
            (ticket_id, "patient") in self._offered
        )
        if came:
            await self._back_to_head(
                ticket,
                "no_connection",
                _("Não foi possível conectar o seu vídeo. Você voltou para o início da fila;"
                  " se acontecer de novo, faça o teste de câmera e de conexão."),
            )  # fmt: skip
            return
        await self._release(ticket)  # before the move: a new call starts clean
        outcome = self.store.no_show(ticket_id)
        if outcome is None:
            return
        log.info("ticket %d: no-show #%d -> %s", ticket_id, outcome.no_shows, outcome.state)
        if outcome.state is State.WAITING:
            await self._tell_both(
                ticket,
                {
                    "type": "requeued",
                    "reason": "no_show",
                    "message": _(
                        "Não conseguimos conectar você a tempo. Você voltou para o início da fila."
                    ),
                },
            )
            if not self.hub.connected(patient_key(ticket.patient_id)):
                self._watch_waiting(ticket_id)
        else:
            await self._tell_both(
                ticket,
                {
                    "type": "removed",
                    "reason": "no_show",
                    "message": _(
                        "Você foi chamado duas vezes e não se conectou, "
                        "por isso saiu da fila. Você pode entrar de novo quando quiser."
                    ),
                },
            )

    async def _lost(self, ticket_id: int, side: Side) -> None:
        ticket = self.store.ticket(ticket_id)
        if ticket is None or ticket.state not in (State.CALLED, State.IN_CALL):
            return
        key = (
            patient_key(ticket.patient_id)
            if side == "patient"
            else staff_key(ticket.professional_id or 0)
        )
        if self.hub.connected(key) and (ticket_id, side) not in self._media_gone:
            return
        if side == "professional":
            await self._back_to_head(
                ticket,
                "professional_lost",
                _("O profissional perdeu a conexão. Você voltou para o início da fila."),
            )
        else:
            await self.hang_up(ticket, "patient", reason="lost")

    # -- chat -----------------------------------------------------------------------

    async def chat(self, ticket: Ticket, side: Side, text: str) -> dict[str, Any]:
        message = {"type": "chat", "from": side, "text": text, "at": time.time()}
        history = self._chats.setdefault(ticket.id, [])
        history.append(message)
        del history[:-MAX_CHAT_HISTORY]
        if self.chat_settings.keep_after_call:
            self.store.add_chat(ticket.id, side, text)
        await self.hub.send(patient_key(ticket.patient_id), message)
        if ticket.professional_id is not None:
            await self.hub.send(staff_key(ticket.professional_id), message)
        return message

    def chat_history(self, ticket_id: int) -> list[dict[str, Any]]:
        return list(self._chats.get(ticket_id, []))

    # -- camera and microphone on or off ------------------------------------------

    async def media_state(self, ticket: Ticket, side: Side, camera: bool, mic: bool) -> None:
        """This side's page turned its camera or microphone on or off: the other page is told.
        The latest state is kept for the call, so a page that reconnects learns it too."""
        state = {"camera": camera, "mic": mic}
        if self._media_states.get((ticket.id, side)) == state:
            return  # nothing changed (a page repeats its state after reconnecting)
        self._media_states[(ticket.id, side)] = state
        message = {"type": "media_state", "from": side, **state}
        if side == "professional":
            await self.hub.send(patient_key(ticket.patient_id), message)
        elif ticket.professional_id is not None:
            await self.hub.send(staff_key(ticket.professional_id), message)

    def media_state_message(self, ticket_id: int, side: Side) -> dict[str, Any] | None:
        """The `media_state` message for this side's latest state, None if it sent none."""
        state = self._media_states.get((ticket_id, side))
        return None if state is None else {"type": "media_state", "from": side, **state}

    # -- media ----------------------------------------------------------------------

    def _peer_state_changed(self, peer: str, state: str) -> None:
        parsed = parse_peer_id(peer)
        if parsed is None:
            return
        ticket_id, side = parsed
        log.info("ticket %d: %s media %s", ticket_id, side, state)
        if state != "connected":
            self._media_ended(ticket_id, side, state)
            return
        self._media_back(ticket_id, side)
        other: Side = "professional" if side == "patient" else "patient"
        if self.relay.connection_state(peer_id(ticket_id, other)) == "connected":
            ticket = self.store.move(ticket_id, State.IN_CALL)
            if ticket is not None:
                self._cancel_timer("no_show", ticket_id)
                log.info("ticket %d: in call", ticket_id)

    # -- a side's media connection ending by itself during the call ------------------

    def _media_ended(self, ticket_id: int, side: Side, state: str) -> None:
        """The relay closed this side's media connection: "failed" (its browser went silent or
        ICE/DTLS failed) or "closed" (its browser closed it, e.g. to reconnect). During a call the
        lost timer runs until the media connects again; on "failed" the other page is told."""
        ticket = self.store.ticket(ticket_id)
        if ticket is None or ticket.state is not State.IN_CALL:
            return  # called: the no-show timer decides; over: our own close_peer()
        told = self._media_gone.get((ticket_id, side), False)
        self._media_gone[(ticket_id, side)] = told or state == "failed"
        if (f"lost_{side}", ticket_id) not in self._timers:  # a page gone earlier keeps its clock
            self._watch_lost(ticket_id, side)
        if state == "failed" and not told:
            log.info("ticket %d: %s media lost", ticket_id, side)
            message = {"type": "peer_connection", "from": side, "state": "lost"}
            self._run_soon(self._tell_other(ticket, side, message))

    def _media_back(self, ticket_id: int, side: Side) -> None:
        """This side's media connected again: its lost timer stops if its page is open too."""
        told = self._media_gone.pop((ticket_id, side), None)
        if told is None:
            return
        ticket = self.store.ticket(ticket_id)
        if ticket is None:
            return
        key = (
            patient_key(ticket.patient_id)
            if side == "patient"
            else staff_key(ticket.professional_id or 0)
        )
        if self.hub.connected(key):
            self._cancel_timer(f"lost_{side}", ticket_id)
        if told:
            message = {"type": "peer_connection", "from": side, "state": "restored"}
            self._run_soon(self._tell_other(ticket, side, message))

    async def _tell_other(self, ticket: Ticket, side: Side, message: dict[str, Any]) -> None:
        if side == "professional":
            await self.hub.send(patient_key(ticket.patient_id), message)
        elif ticket.professional_id is not None:
            await self.hub.send(staff_key(ticket.professional_id), message)

    def _run_soon(self, action: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(action)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
