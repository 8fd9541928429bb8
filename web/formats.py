"""How times and durations read on the pages: in the clinic's zone and the page's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime
from babel.numbers import format_decimal


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
    def when(ts: float | None, locale: str = "pt_BR") -> str:
        """31/12/1969 21:00 in Portuguese, 12/31/69, 9:00 PM in English (`|when(locale)`)."""
        if ts is None:
            return "—"
        return format_datetime(datetime.fromtimestamp(ts, tz), "short", locale=locale)

    return {"when": when, "duration": duration}


def page_filters(tz: ZoneInfo) -> dict[str, Callable[..., Any]]:
    """The filters for templates: `|when` writes the time in the page's language (`locale`)."""
    plain = filters(tz)

    def page_locale(context: jinja2.runtime.Context) -> str:
        locale = context.get("locale")
        return locale if isinstance(locale, str) else "pt_BR"

    @jinja2.pass_context
    def when(context: jinja2.runtime.Context, ts: float | None) -> str:
        return str(plain["when"](ts, page_locale(context)))

    @jinja2.pass_context
    def decimal(context: jinja2.runtime.Context, value: float | None) -> str:
        """4,5 in Portuguese, 4.5 in English (one decimal); "—" for none."""
        if value is None:
            return "—"
        return str(format_decimal(value, "0.0", locale=page_locale(context)))

    return {**plain, "when": when, "decimal": decimal}
