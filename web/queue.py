"""The waiting queue and the visit state machine: order, positions and allowed moves (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum

from web.accounts import age_on


class State(StrEnum):
    """A ticket's state; one ticket per patient visit."""

    WAITING = "waiting"  # in the queue
    CALLED = "called"  # taken by a professional, media not yet flowing both ways
    IN_CALL = "in_call"  # both sides connected
    ENDED = "ended"  # call over (rating may follow)
    LEFT = "left"  # left or removed before a call


ACTIVE_STATES = (State.WAITING, State.CALLED, State.IN_CALL)

# Allowed moves. A called ticket may go back to waiting (no-show, lost connection).
TRANSITIONS: dict[State, frozenset[State]] = {
    State.WAITING: frozenset({State.CALLED, State.LEFT}),
    State.CALLED: frozenset({State.IN_CALL, State.WAITING, State.ENDED, State.LEFT}),
    State.IN_CALL: frozenset({State.ENDED}),
    State.ENDED: frozenset(),
    State.LEFT: frozenset(),
}


class Priority(IntEnum):
    """Legal priority classes; lower is served first (Lei 13.466/2017, Lei 10.048/2000)."""

    SUPER = 0  # 80 years or more
    PRIORITY = 1  # 60 years or more
    NONE = 2


def can_move(current: State, target: State) -> bool:
    return target in TRANSITIONS[current]


def priority_for(born: date, today: date) -> Priority:
    age = age_on(born, today)
    if age >= 80:
        return Priority.SUPER
    if age >= 60:
        return Priority.PRIORITY
    return Priority.NONE


@dataclass(frozen=True)
class Waiting:
    """What ordering needs to know of a waiting ticket."""

    ticket_id: int
    priority: Priority
    seq: int  # arrival order (monotonic; a ticket sent back to the head gets a low one)


def ordered(waiting: Iterable[Waiting]) -> list[Waiting]:
    """Serving order: priority class first, then arrival."""
    return sorted(waiting, key=lambda w: (w.priority, w.seq, w.ticket_id))


def positions(waiting: Iterable[Waiting]) -> dict[int, int]:
    """Ticket id -> position 1..n, without gaps."""
    return {w.ticket_id: i for i, w in enumerate(ordered(waiting), start=1)}
