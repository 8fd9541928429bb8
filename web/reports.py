"""Figures for the management panel and /metrics, computed from the tickets in the database.

Definitions (also shown on the panel):
- wait: from arrival in the queue until a professional took the patient (called_at); a patient
  still waiting has waited until now. A ticket sent back to the head keeps its arrival time.
- visit: a call that took place (started_at set) and ended; its duration runs from the moment
  both sides were connected until the hang-up.
- "today": since midnight in the clinic's time zone (server.timezone).
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from web.accounts import council_label, first_name
from web.device_check import summary_text
from web.queue import State, outcome_label
from web.store import Store


def day_bounds(day: date, tz: ZoneInfo) -> tuple[float, float]:
    """Unix times of the start and end of a calendar day in the clinic's time zone."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def _avg(values: Sequence[float]) -> float | None:
    return round(mean(values), 1) if values else None


@dataclass(frozen=True)
class Overview:
    waiting_now: int
    in_call_now: int
    visits_today: int
    average_wait_s: float | None
    longest_wait_s: float | None
    average_duration_s: float | None
    average_rating: float | None


def overview(store: Store, day_start: float, day_end: float, now: float) -> Overview:
    db = store.db
    counts = dict(
        db.execute(
            "SELECT state, COUNT(*) FROM tickets WHERE state IN (?, ?, ?) GROUP BY state",
            (State.WAITING, State.CALLED, State.IN_CALL),
        ).fetchall()
    )
    waits = [
        r[0]
        for r in db.execute(
            "SELECT called_at - arrived_at FROM tickets"
            " WHERE called_at IS NOT NULL AND called_at >= ? AND called_at < ?",
            (day_start, day_end),
        )
    ]
    still_waiting = [
        now - r[0]
        for r in db.execute("SELECT arrived_at FROM tickets WHERE state = ?", (State.WAITING,))
    ]
    visits = db.execute(
        "SELECT ended_at - started_at, rating FROM tickets WHERE state = ?"
        " AND started_at IS NOT NULL AND ended_at >= ? AND ended_at < ?",
        (State.ENDED, day_start, day_end),
    ).fetchall()
    longest = max([*waits, *still_waiting], default=None)
    return Overview(
        waiting_now=counts.get(State.WAITING, 0),
        in_call_now=counts.get(State.CALLED, 0) + counts.get(State.IN_CALL, 0),
        visits_today=len(visits),
        average_wait_s=_avg(waits),
        longest_wait_s=round(longest, 1) if longest is not None else None,
        average_duration_s=_avg([v[0] for v in visits]),
        average_rating=_avg([v[1] for v in visits if v[1] is not None]),
    )


@dataclass(frozen=True)
class ProfessionalRow:
    id: int
    name: str
    email: str
    council: str
    role: str
    status: str
    available: bool
    visits: int
    average_duration_s: float | None
    average_rating: float | None


def professionals(store: Store) -> list[ProfessionalRow]:
    rows = store.db.execute(
        "SELECT s.id, s.name, s.email, s.council, s.council_number, s.council_uf, s.role,"
        " s.status, s.available, COUNT(t.id) AS visits,"
        " AVG(t.ended_at - t.started_at) AS duration, AVG(t.rating) AS rating"
        " FROM staff s LEFT JOIN tickets t ON t.professional_id = s.id AND t.state = ?"
        " AND t.started_at IS NOT NULL GROUP BY s.id ORDER BY s.name",
        (State.ENDED,),
    ).fetchall()
    return [
        ProfessionalRow(
            id=r["id"],
            name=r["name"],
            email=r["email"],
            council=council_label(r["council"], r["council_number"], r["council_uf"]),
            role=r["role"],
            status=r["status"],
            available=bool(r["available"]),
            visits=r["visits"],
            average_duration_s=round(r["duration"], 1) if r["duration"] is not None else None,
            average_rating=round(r["rating"], 2) if r["rating"] is not None else None,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class TicketFacts:
    """What every view of a visit tells of its ticket: state, times, wait, duration, rating."""

    ticket: int
    state: str
    end_reason: str
    arrived_at: float
    called_at: float | None
    started_at: float | None
    ended_at: float | None
    wait_s: float | None
    duration_s: float | None
    rating: int | None
    comment: str

    @property
    def outcome(self) -> str:
        """The state and why, in words (the pages; exports keep the codes)."""
        return outcome_label(self.state, self.end_reason)


@dataclass(frozen=True)
class VisitRow(TicketFacts):
    """A line of the visits page: the patient by first name only."""

    patient_first_name: str
    professional: str


@dataclass(frozen=True)
class VisitFilter:
    """Which tickets: arrived in [start, end), of one professional, patient or ticket."""

    start: float | None = None
    end: float | None = None
    professional_id: int | None = None
    patient_id: int | None = None
    ticket_id: int | None = None


_VISITS_QUERY = (
    "SELECT t.*, p.full_name, p.cpf, p.birth_date, p.erased_at, s.name AS staff_name,"
    " s.council, s.council_number, s.council_uf,"
    " (SELECT c.terms_version FROM consents c WHERE c.patient_id = t.patient_id"
    " AND c.accepted_at <= t.arrived_at ORDER BY c.accepted_at DESC, c.id DESC LIMIT 1)"
    " AS terms_version FROM tickets t JOIN patients p ON p.id = t.patient_id"
    " LEFT JOIN staff s ON s.id = t.professional_id"
)


def _ticket_rows(store: Store, which: VisitFilter) -> list[sqlite3.Row]:
    """Tickets with their patient, professional and terms version, newest arrival first."""
    conditions = (
        ("t.arrived_at >= ?", which.start),
        ("t.arrived_at < ?", which.end),
        ("t.professional_id = ?", which.professional_id),
        ("t.patient_id = ?", which.patient_id),
        ("t.id = ?", which.ticket_id),
    )
    used = [(sql, value) for sql, value in conditions if value is not None]
    where = " WHERE " + " AND ".join(sql for sql, _ in used) if used else ""
    query = _VISITS_QUERY + where + " ORDER BY t.arrived_at DESC, t.id DESC"
    return store.db.execute(query, [value for _, value in used]).fetchall()


def visits(store: Store, which: VisitFilter) -> list[VisitRow]:
    """The visits page's rows, newest arrival first."""
    return [_visit(r) for r in _ticket_rows(store, which)]


def _ticket_fields(r: sqlite3.Row) -> dict[str, Any]:
    """The TicketFacts of a row."""
    called, started, ended = r["called_at"], r["started_at"], r["ended_at"]
    return {
        "ticket": r["id"],
        "state": r["state"],
        "end_reason": r["end_reason"],
        "arrived_at": r["arrived_at"],
        "called_at": called,
        "started_at": started,
        "ended_at": ended,
        "wait_s": round(called - r["arrived_at"], 1) if called else None,
        "duration_s": round(ended - started, 1) if started and ended else None,
        "rating": r["rating"],
        "comment": r["comment"],
    }


def _visit(r: sqlite3.Row) -> VisitRow:
    staff = r["staff_name"] or ""
    if staff and r["council"]:
        staff += f" ({council_label(r['council'], r['council_number'], r['council_uf'])})"
    return VisitRow(
        patient_first_name=first_name(r["full_name"]), professional=staff, **_ticket_fields(r)
    )


@dataclass(frozen=True)
class VisitRecord(TicketFacts):
    """One visit as a clinic files it (CFM 2.314/2022): the patient, the professional with council,
    number and UF, the times, the wait, the device test, the rating and the terms version the
    patient had accepted. An erased patient's fields are empty (patient_erased is true)."""

    patient_id: int
    patient_name: str
    patient_cpf: str
    patient_birth_date: str
    patient_erased: bool
    terms_version: str
    professional_id: int | None
    professional_name: str
    professional_council: str
    professional_council_number: str
    professional_council_uf: str
    device_summary: str


# The record's fields in the order of the files: who, then when, then how it went.
RECORD_COLUMNS = (
    "ticket", "state", "end_reason", "patient_id", "patient_name", "patient_cpf",
    "patient_birth_date", "patient_erased", "terms_version", "professional_id",
    "professional_name", "professional_council", "professional_council_number",
    "professional_council_uf", "arrived_at", "called_at", "started_at", "ended_at", "wait_s",
    "duration_s", "device_summary", "rating", "comment",
)  # fmt: skip


def visit_records(store: Store, which: VisitFilter) -> list[VisitRecord]:
    return [_record(r) for r in _ticket_rows(store, which)]


def _record(r: sqlite3.Row) -> VisitRecord:
    erased = r["erased_at"] is not None
    return VisitRecord(
        patient_id=r["patient_id"],
        patient_name="" if erased else r["full_name"],
        patient_cpf="" if erased else r["cpf"],
        patient_birth_date="" if erased else r["birth_date"],
        patient_erased=erased,
        terms_version=r["terms_version"] or "",
        professional_id=r["professional_id"],
        professional_name=r["staff_name"] or "",
        professional_council=r["council"] or "",
        professional_council_number=r["council_number"] or "",
        professional_council_uf=r["council_uf"] or "",
        device_summary=summary_text(r["device_summary"]),  # exports: as stored; pages: translated
        **_ticket_fields(r),
    )


CSV_COLUMNS = (
    "ticket", "patient_first_name", "professional", "state", "arrived_at", "called_at",
    "started_at", "ended_at", "wait_s", "duration_s", "end_reason", "rating", "comment",
)  # fmt: skip


def iso_time(ts: float | None, tz: ZoneInfo) -> str | None:
    """A Unix time in ISO 8601 in the clinic's time zone (None stays None)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def export_value(name: str, value: object, tz: ZoneInfo) -> object:
    """A field as exports write it: times (names ending in _at) in ISO 8601; the rest as is."""
    if name.endswith("_at") and isinstance(value, int | float):
        return iso_time(value, tz)
    return value


def as_dict(row: object, columns: Sequence[str], tz: ZoneInfo) -> dict[str, object]:
    """One exported row for JSON (None stays null)."""
    return {name: export_value(name, getattr(row, name), tz) for name in columns}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A value as a CSV cell: None empty, booleans true/false, and text a spreadsheet would run
    as a formula (a patient's name or comment starting with "=", "+", "-", "@") quoted with
    a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_csv(rows: Iterable[object], columns: Sequence[str], tz: ZoneInfo) -> str:
    """CSV with a header and one row per line (cells as csv_cell makes them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(v) for v in as_dict(row, columns, tz).values()])
    return out.getvalue()


def visits_csv(rows: Iterable[VisitRow], tz: ZoneInfo) -> str:
    """CSV with one visit per line; times in ISO 8601 in the clinic's time zone."""
    return rows_csv(rows, CSV_COLUMNS, tz)


def rating_distribution(store: Store) -> dict[int, int]:
    counts = dict(
        store.db.execute(
            "SELECT rating, COUNT(*) FROM tickets WHERE rating IS NOT NULL GROUP BY rating"
        ).fetchall()
    )
    return {stars: counts.get(stars, 0) for stars in range(1, 6)}


@dataclass(frozen=True)
class Comment:
    rating: int
    comment: str
    rated_at: float
    professional: str


def latest_comments(store: Store, limit: int = 20) -> list[Comment]:
    rows = store.db.execute(
        "SELECT t.rating, t.comment, t.rated_at, s.name FROM tickets t"
        " LEFT JOIN staff s ON s.id = t.professional_id"
        " WHERE t.rating IS NOT NULL AND t.comment != '' ORDER BY t.rated_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [Comment(r[0], r[1], r[2], r[3] or "") for r in rows]


def hourly(store: Store, day_start: float, now: float) -> dict[str, list[int]]:
    """For each hour of the day so far: patients who waited during it, and visits started in it."""
    hours = max(1, min(24, int((now - day_start) // 3600) + 1))
    waiting = [0] * hours
    started = [0] * hours
    rows = store.db.execute(
        "SELECT arrived_at, called_at, ended_at, started_at, state FROM tickets"
        " WHERE (arrived_at < ? AND arrived_at >= ? AND (called_at IS NULL OR called_at >= ?))"
        " OR (started_at >= ? AND started_at < ?)",
        (now, day_start - 86400, day_start, day_start, now),
    ).fetchall()
    for arrived, called, ended, start, state in rows:
        left = called or (now if state == State.WAITING else ended) or arrived
        for h in range(hours):
            h_start = day_start + h * 3600
            if arrived < h_start + 3600 and left >= h_start:
                waiting[h] += 1
            if start is not None and h_start <= start < h_start + 3600:
                started[h] += 1
    return {"waiting": waiting, "visits": started}
