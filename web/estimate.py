"""The estimated wait shown to a waiting patient: a range, learned from recent calls (pure).

Formula (written down in docs/queue.md):
    ahead  = position - 1                       patients served before this one
    P      = professionals online and available (busy in a call counts: they free up)
    rounds = floor(ahead / P)                   full rounds of calls before this patient's turn
    low    = rounds * Q1                        Q1, Q3: quartiles of the recent call durations
    high   = (rounds + 1) * Q3                  (the +1 covers the calls running right now)
With fewer than MIN_SAMPLES recent calls, Q1 and Q3 fall back to the configured defaults
(queue.default_call_minutes_low and _high).
Minutes are rounded outwards (low down, high up; above 10 minutes to multiples of 5).
With no professional available there is no estimate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import quantiles

from web.text import Text, _

MIN_SAMPLES = 3
DEFAULT_Q1 = 5 * 60.0
DEFAULT_Q3 = 15 * 60.0


@dataclass(frozen=True)
class WaitRange:
    low_minutes: int
    high_minutes: int


def duration_quartiles(
    durations: Sequence[float], defaults: tuple[float, float] = (DEFAULT_Q1, DEFAULT_Q3)
) -> tuple[float, float]:
    if len(durations) < MIN_SAMPLES:
        return defaults
    q1, _, q3 = quantiles(durations, n=4, method="inclusive")
    return q1, q3


def _down(minutes: float) -> int:
    value = math.floor(minutes)
    return value - value % 5 if value > 10 else value


def _up(minutes: float) -> int:
    value = max(1, math.ceil(minutes))
    return value + (-value % 5) if value > 10 else value


def estimate_wait(
    position: int,
    professionals: int,
    durations: Sequence[float],
    defaults: tuple[float, float] = (DEFAULT_Q1, DEFAULT_Q3),
) -> WaitRange | None:
    """The wait range for a patient at `position` (1-based), or None with nobody to attend."""
    if professionals < 1 or position < 1:
        return None
    q1, q3 = duration_quartiles(durations, defaults)
    rounds = (position - 1) // professionals
    return WaitRange(_down(rounds * q1 / 60), _up((rounds + 1) * q3 / 60))


def describe(wait: WaitRange | None) -> Text:
    """The range in words, for the waiting page."""
    if wait is None:
        return _("Nenhum profissional disponível agora. Você continua na fila.")
    if wait.low_minutes == 0:
        return _("Espera estimada: até %(high)d min", high=wait.high_minutes)
    return _(
        "Espera estimada: entre %(low)d e %(high)d min",
        low=wait.low_minutes,
        high=wait.high_minutes,
    )
