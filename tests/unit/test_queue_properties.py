"""Random sequences of queue events against the real store: the invariants hold at every step."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tests.support import make_cpf
from web import queue
from web.accounts import hash_password
from web.queue import Priority, State
from web.store import Store

TODAY = date(2026, 12, 3)
BIRTHS = [date(1940, 1, 1), date(1960, 1, 1), date(1990, 1, 1)]  # 80+, 60+, none
CONDITIONS = [[], ["gestante"], ["deficiencia", "autismo"]]
PATIENTS = 8
PROFESSIONALS = 3
PASSWORD_HASH = hash_password("not used in this test")


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.path = str(Path(self.folder.name) / "queue.sqlite3")
        self.store = Store(self.path)
        self.patients = [
            self.store.create_patient(make_cpf(i + 1), f"Pessoa {i}", BIRTHS[i % 3], "", "")
            for i in range(PATIENTS)
        ]
        self.pros = [
            self.store.create_staff(
                name=f"Pro {i}", email=f"p{i}@x.org", password_hash=PASSWORD_HASH,
                role="professional", status="approved",
            ).id
            for i in range(PROFESSIONALS)
        ]  # fmt: skip
        self.declared: dict[int, list[str]] = {}

    def teardown(self) -> None:
        self.store.close()
        self.folder.cleanup()

    # -- events ------------------------------------------------------------------

    @rule(p=st.integers(0, PATIENTS - 1), c=st.integers(0, 2))
    def join(self, p: int, c: int) -> None:
        patient = self.patients[p]
        before = self.store.active_ticket(patient.id)
        decision = queue.decide_priority(patient.birth_date, TODAY, CONDITIONS[c])
        ticket = self.store.join_queue(patient.id, decision)
        if before is not None:  # a reconnect or second tab finds the same ticket
            assert ticket.id == before.id

    @rule(p=st.integers(0, PATIENTS - 1))
    def leave(self, p: int) -> None:
        ticket = self.store.active_ticket(self.patients[p].id)
        moved = self.store.move(ticket.id, State.LEFT) if ticket else None
        if ticket is not None and ticket.state is not State.IN_CALL:
            assert moved is not None

    @rule(j=st.integers(0, PROFESSIONALS - 1))
    def take(self, j: int) -> None:
        waiting = self.store.waiting()
        current = self.store.current_call(self.pros[j])
        ticket, new = self.store.take_next(self.pros[j])
        if current is not None:
            assert (ticket.id if ticket else None, new) == (current.id, False)
        elif waiting:
            assert ticket is not None and new and ticket.id == waiting[0].ticket_id
        else:
            assert ticket is None

    @rule(j=st.integers(0, PROFESSIONALS - 1))
    def both_connect(self, j: int) -> None:
        ticket = self.store.current_call(self.pros[j])
        if ticket is not None and ticket.state is State.CALLED:
            assert self.store.move(ticket.id, State.IN_CALL) is not None

    @rule(j=st.integers(0, PROFESSIONALS - 1))
    def no_show(self, j: int) -> None:
        ticket = self.store.current_call(self.pros[j])
        if ticket is None or ticket.state is not State.CALLED:
            return
        after = self.store.no_show(ticket.id)
        assert after is not None
        if ticket.no_shows == 0:  # back to the head of the queue, once
            assert after.state is State.WAITING and after.requeued
            head = self.store.ticket(self.store.waiting()[0].ticket_id)
            assert head is not None and head.requeued
        else:
            assert after.state is State.LEFT

    @rule(j=st.integers(0, PROFESSIONALS - 1))
    def professional_lost(self, j: int) -> None:
        ticket = self.store.current_call(self.pros[j])
        if ticket is not None:
            assert self.store.move(ticket.id, State.WAITING, reason="professional_lost")

    @rule(j=st.integers(0, PROFESSIONALS - 1))
    def hang_up(self, j: int) -> None:
        ticket = self.store.current_call(self.pros[j])
        if ticket is not None:
            assert self.store.move(ticket.id, State.ENDED) is not None

    @rule()
    def restart(self) -> None:
        before = [w.ticket_id for w in self.store.waiting()]
        self.store.close()
        self.store = Store(self.path)
        assert [w.ticket_id for w in self.store.waiting()] == before

    # -- what must hold after every step ------------------------------------------

    @invariant()
    def positions_are_contiguous(self) -> None:
        waiting = self.store.waiting()
        assert [w.position for w in waiting] == list(range(1, len(waiting) + 1))

    @invariant()
    def one_active_ticket_per_patient_and_one_call_per_professional(self) -> None:
        rows = self.store.db.execute(
            "SELECT patient_id, professional_id, state FROM tickets WHERE state IN (?, ?, ?)",
            queue.ACTIVE_STATES,
        ).fetchall()
        patients = [r["patient_id"] for r in rows]
        assert len(patients) == len(set(patients))
        holders = [r["professional_id"] for r in rows if r["state"] != State.WAITING]
        assert None not in holders
        assert len(holders) == len(set(holders))  # no professional in two calls
        assert all(r["professional_id"] is None for r in rows if r["state"] == State.WAITING)

    @invariant()
    def priority_order_is_respected(self) -> None:
        keys = []
        for w in self.store.waiting():
            ticket = self.store.ticket(w.ticket_id)
            assert ticket is not None
            keys.append((not ticket.requeued, int(ticket.priority), ticket.seq))
        assert keys == sorted(keys)
        assert all(isinstance(w.priority, Priority) for w in self.store.waiting())


QueueMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
test_queue_rules = QueueMachine.TestCase
