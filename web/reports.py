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
from zoneinfo import ZoneInfo

from web.accounts import council_label, first_name
from web.queue import State
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
class VisitRow:
    ticket: int
    patient_first_name: str
    professional: str
    state: str
    arrived_at: float
    called_at: float | None
    started_at: float | None
    ended_at: float | None
    wait_s: float | None
    duration_s: float | None
    end_reason: str
    rating: int | None
    comment: str


def visits(
    store: Store, start: float, end: float, professional_id: int | None = None
) -> list[VisitRow]:
    """Tickets that arrived between start and end (optionally of one professional), newest first."""
    query = (
        "SELECT t.*, p.full_name, s.name AS staff_name, s.council, s.council_number,"
        " s.council_uf FROM tickets t JOIN patients p ON p.id = t.patient_id"
        " LEFT JOIN staff s ON s.id = t.professional_id"
        " WHERE t.arrived_at >= ? AND t.arrived_at < ?"
    )
    params: list[object] = [start, end]
    if professional_id is not None:
        query += " AND t.professional_id = ?"
        params.append(professional_id)
    rows = store.db.execute(query + " ORDER BY t.arrived_at DESC", params).fetchall()
    return [_visit(r) for r in rows]


def _visit(r: sqlite3.Row) -> VisitRow:
    staff = r["staff_name"] or ""
    if staff and r["council"]:
        staff += f" ({council_label(r['council'], r['council_number'], r['council_uf'])})"
    started, ended = r["started_at"], r["ended_at"]
    return VisitRow(
        ticket=r["id"],
        patient_first_name=first_name(r["full_name"]),
        professional=staff,
        state=r["state"],
        arrived_at=r["arrived_at"],
        called_at=r["called_at"],
        started_at=started,
        ended_at=ended,
        wait_s=round(r["called_at"] - r["arrived_at"], 1) if r["called_at"] else None,
        duration_s=round(ended - started, 1) if started and ended else None,
        end_reason=r["end_reason"],
        rating=r["rating"],
        comment=r["comment"],
    )


CSV_COLUMNS = (
    "ticket", "patient_first_name", "professional", "state", "arrived_at", "called_at",
    "started_at", "ended_at", "wait_s", "duration_s", "end_reason", "rating", "comment",
)  # fmt: skip


def visits_csv(rows: Iterable[VisitRow], tz: ZoneInfo) -> str:
    """CSV with one visit per line; times in ISO 8601 in the clinic's time zone."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = []
        for name in CSV_COLUMNS:
            value = getattr(row, name)
            if name.endswith("_at") and value is not None:
                value = datetime.fromtimestamp(value, tz).isoformat(timespec="seconds")
            values.append("" if value is None else value)
        writer.writerow(values)
    return out.getvalue()


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
