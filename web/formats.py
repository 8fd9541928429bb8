"""How times and durations read on the pages (Brazilian conventions)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def duration(seconds: float | None) -> str:
    """12 s, 4 min 05 s, 1 h 02 min; "—" for none."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def filters(tz: ZoneInfo) -> dict[str, Callable[..., Any]]:
    def when(ts: float | None) -> str:
        if ts is None:
            return "—"
        return datetime.fromtimestamp(ts, tz).strftime("%d/%m/%Y %H:%M")

    return {"when": when, "duration": duration}
