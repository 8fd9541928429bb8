"""The waiting queue and the visit state machine: order, positions and allowed moves (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum
from functools import lru_cache

from web.accounts import age_on
from web.text import _, join


class State(StrEnum):
    """A ticket's state; one ticket per patient visit."""

    WAITING = "waiting"  # in the queue
    CALLED = "called"  # taken by a professional, media not yet flowing both ways
    IN_CALL = "in_call"  # both sides connected
    ENDED = "ended"  # call over (rating may follow)
    LEFT = "left"  # left or removed before a call


ACTIVE_STATES = (State.WAITING, State.CALLED, State.IN_CALL)

# What a page calls each state and each end reason (tickets.end_reason; the visits pages).
STATE_LABELS: dict[str, str] = {
    State.WAITING: _("Aguardando"),
    State.CALLED: _("Chamado"),
    State.IN_CALL: _("Em atendimento"),
    State.ENDED: _("Encerrado"),
    State.LEFT: _("Saiu da fila"),
}
END_REASONS = {
    "professional_hangup": _("o profissional desligou"),
    "patient_hangup": _("o paciente desligou"),
    "patient_lost": _("o paciente perdeu a conexão"),
    "professional_lost": _("o profissional perdeu a conexão"),
    "no_show": _("o paciente não se conectou a tempo"),
    "no_connection": _("o vídeo do paciente não conectou"),
    "professional_no_media": _("o vídeo do profissional não conectou"),
    "disconnected": _("o paciente fechou a página por tempo demais"),
    "patient_left": _("o paciente saiu da fila"),
}

# Why staff may take a patient out of the queue (code -> what the patient reads).
REMOVAL_REASONS = {
    "pedido": _("a pedido do próprio paciente"),
    "outro_canal": _("o atendimento será feito por outro canal"),
    "duplicado": _("cadastro em duplicidade"),
    "fora_escopo": _("o caso precisa de atendimento presencial"),
}


def outcome_label(state: str, end_reason: str) -> str:
    """ "Encerrado (encerrado pelo paciente)": a ticket's state and why, in words."""
    label = STATE_LABELS.get(state, state)
    if state not in (State.ENDED, State.LEFT):  # a reason left from a call that did not start
        return label
    if end_reason.startswith("removed:"):
        removal = REMOVAL_REASONS.get(end_reason.removeprefix("removed:"), end_reason)
        return _("%(state)s (retirado pela equipe: %(reason)s)", state=label, reason=removal)
    if not end_reason:
        return label
    why = END_REASONS.get(end_reason, end_reason)
    return _("%(state)s (%(reason)s)", state=label, reason=why)


# Allowed moves. A called or in-call ticket goes back to waiting (at the head) when the
# patient did not show up or the professional's connection was lost.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.WAITING: frozenset({State.CALLED, State.LEFT}),
    State.CALLED: frozenset({State.IN_CALL, State.WAITING, State.ENDED, State.LEFT}),
    State.IN_CALL: frozenset({State.ENDED, State.WAITING}),
    State.ENDED: frozenset(),
    State.LEFT: frozenset(),
}


class Priority(IntEnum):
    """Legal priority classes; lower is served first."""

    SUPER = 0  # 80 years or more (Lei 13.466/2017)
    PRIORITY = 1  # Lei 10.048/2000 as amended: 60+, pregnant, lactating, disability, ...
    NONE = 2


# Conditions a patient may declare at check-in (Lei 10.048/2000, as amended by
# Lei 13.146/2015 and Lei 14.626/2023). Age-based priority needs no declaration.
DECLARABLE: dict[str, str] = {
    "gestante": _("Gestante"),
    "lactante": _("Lactante"),
    "deficiencia": _("Pessoa com deficiência"),
    "autismo": _("Pessoa com transtorno do espectro autista"),
    "mobilidade": _("Pessoa com mobilidade reduzida"),
    "crianca_colo": _("Acompanhada de criança de colo"),
    "obesidade": _("Pessoa com obesidade"),
    "doador_sangue": _("Doador(a) de sangue"),
}
AGE_REASONS = {"80+": _("80 anos ou mais"), "60+": _("60 anos ou mais")}


def can_move(current: State, target: State) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True)
class PriorityDecision:
    priority: Priority
    reasons: tuple[str, ...]  # codes from AGE_REASONS and DECLARABLE

    @property
    def label(self) -> str:
        return _label(self.reasons)


@lru_cache(maxsize=1024)
def _label(reasons: tuple[str, ...]) -> str:
    """The reasons in words (one shared text per combination: translated once per language)."""
    return join("; ", [AGE_REASONS.get(r) or DECLARABLE.get(r, r) for r in reasons])


def decide_priority(
    born: date, today: date, declared: Iterable[str], *, enabled: bool = True
) -> PriorityDecision:
    """The priority class and its reasons; unknown declarations are ignored."""
    if not enabled:
        return PriorityDecision(Priority.NONE, ())
    age = age_on(born, today)
    reasons: list[str] = []
    if age >= 80:
        reasons.append("80+")
    elif age >= 60:
        reasons.append("60+")
    reasons += [code for code in DECLARABLE if code in set(declared)]
    if age >= 80:
        return PriorityDecision(Priority.SUPER, tuple(reasons))
    if reasons:
        return PriorityDecision(Priority.PRIORITY, tuple(reasons))
    return PriorityDecision(Priority.NONE, ())


def priority_for(born: date, today: date) -> Priority:
    return decide_priority(born, today, ()).priority


@dataclass(frozen=True)
class Waiting:
    """What ordering needs to know of a waiting ticket."""

    ticket_id: int
    priority: Priority
    seq: int  # arrival order
    requeued: bool = False  # sent back to the head (no-show, lost professional)


def sort_key(w: Waiting) -> tuple[int, int, int, int]:
    """Serving order: tickets sent back to the head first, then priority class, then arrival."""
    return (0 if w.requeued else 1, int(w.priority), w.seq, w.ticket_id)


def ordered(waiting: Iterable[Waiting]) -> list[Waiting]:
    return sorted(waiting, key=sort_key)


def positions(waiting: Iterable[Waiting]) -> dict[int, int]:
    """Ticket id -> position 1..n, without gaps."""
    return {w.ticket_id: i for i, w in enumerate(ordered(waiting), start=1)}


def after_no_show(previous_no_shows: int) -> State:
    """A called patient who never connected goes back to the head once, then is removed."""
    return State.WAITING if previous_no_shows == 0 else State.LEFT
