"""A patient's rights over their data (LGPD Art. 18): their own copy, erasure, retention, and what
a refusal of the terms leaves behind. The rules are written out in docs/privacy.md.

Erasure (`erase`), precisely. In one transaction, for one patient:

- removed: CPF, full name, birth date, phone and e-mail (the patients row keeps only its id, its
  registration, last sign-in, erasure-request and erasure times; its CPF becomes the placeholder
  "apagado-<id>", which no CPF can equal, so the person can register again as new); the
  comment of every rating; the conditions declared for priority and the age group on every
  ticket (`priority_reasons`); every chat message of their visits; their sessions (signed out
  everywhere: an erased patient is never found again by id or CPF).
- kept, anonymous: each ticket's state, times (arrival, called, start, end, rating), end reason,
  priority class, device-test summary, professional and rating as a number; the device tests'
  verdicts (for the device-test statistics); the consents (terms version and time); the audit log.
  So every figure of the panel and of /metrics stays the same.
- the file: SQLite overwrites deleted content with zeros (Store sets `secure_delete`) and the
  write-ahead log is emptied after the erasure, so the bytes are gone from the disk files too.

A patient with a visit under way (waiting, called, in a call) is not erased: `PatientBusy`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from web import audit, reports
from web.accounts import first_name
from web.queue import ACTIVE_STATES
from web.store import Store

log = logging.getLogger(__name__)

# What a patient's own copy says of each visit (their name and CPF are in "patient" already).
_VISIT_FIELDS = tuple(c for c in reports.RECORD_COLUMNS if not c.startswith("patient_"))


class PatientBusy(Exception):
    """The patient is waiting or in a call: erase after the visit."""


def _has_active_ticket(store: Store, patient_id: int) -> bool:
    row = store.db.execute(
        "SELECT 1 FROM tickets WHERE patient_id = ? AND state IN (?, ?, ?)",
        (patient_id, *ACTIVE_STATES),
    ).fetchone()
    return row is not None


async def wipe_free_space(store: Store) -> bool:
    """After an erasure: move the write-ahead log into the file and empty it, so no old page
    version of the erased data stays on disk (off the event loop, Store.truncate_log).

    If a reader in another process held on, the log is not emptied now (False, and a warning);
    the hourly task (web/retention.py) tries again until it is."""
    if not store.wipe_pending:
        return True
    store.wipe_pending = False  # an erasure made while this runs sets it again
    try:
        emptied = await store.truncate_log()
    except sqlite3.Error:
        log.exception("privacy: emptying the write-ahead log failed")
        emptied = False
    if not emptied:
        store.wipe_pending = True
        log.warning("privacy: the write-ahead log could not be emptied now (a reader held on)")
        return False
    return True


# -- the patient's own copy -------------------------------------------------------------------


def patient_data(store: Store, patient_id: int, tz: ZoneInfo) -> dict[str, Any]:
    """Everything stored about the patient, for their download (JSON); times in ISO 8601."""
    db = store.db
    row = db.execute(
        "SELECT * FROM patients WHERE id = ? AND erased_at IS NULL", (patient_id,)
    ).fetchone()
    if row is None:
        raise KeyError(patient_id)

    def when(value: float | None) -> str | None:
        return reports.iso_time(value, tz)

    visits = []
    for record in reports.visit_records(store, reports.VisitFilter(patient_id=patient_id)):
        visit = reports.as_dict(record, _VISIT_FIELDS, tz)
        chat = db.execute(
            "SELECT sender, text, sent_at FROM chat_messages WHERE ticket_id = ? ORDER BY id",
            (record.ticket,),
        ).fetchall()
        visit["chat_messages"] = [
            {"from": c["sender"], "text": c["text"], "sent_at": when(c["sent_at"])} for c in chat
        ]
        visits.append(visit)
    return {
        "exported_at": when(time.time()),
        "registration": {
            "id": row["id"],
            "cpf": row["cpf"],
            "full_name": row["full_name"],
            "birth_date": row["birth_date"],
            "phone": row["phone"],
            "email": row["email"],
            "registered_at": when(row["created_at"]),
            "last_sign_in_at": when(row["last_seen_at"]),
            "erasure_requested_at": when(row["erasure_requested_at"]),
        },
        "consents": [
            {"terms_version": c["terms_version"], "accepted_at": when(c["accepted_at"])}
            for c in db.execute(
                "SELECT terms_version, accepted_at FROM consents WHERE patient_id = ? ORDER BY id",
                (patient_id,),
            )
        ],
        "visits": visits,
        "device_tests": [
            {
                "tested_at": when(d["tested_at"]),
                "verdicts": json.loads(d["verdicts"]),
                "summary": d["summary"],
                "speaker_heard": None if d["speaker_heard"] is None else bool(d["speaker_heard"]),
            }
            for d in db.execute(
                "SELECT * FROM device_tests WHERE patient_id = ? ORDER BY id", (patient_id,)
            )
        ],
    }


def counts(store: Store, patient_id: int) -> dict[str, int]:
    """How many visits, consents and device tests are stored for the patient."""
    row = store.db.execute(
        "SELECT (SELECT COUNT(*) FROM tickets WHERE patient_id = :id) AS visits,"
        " (SELECT COUNT(*) FROM consents WHERE patient_id = :id) AS consents,"
        " (SELECT COUNT(*) FROM device_tests WHERE patient_id = :id) AS device_tests",
        {"id": patient_id},
    ).fetchone()
    return dict(row)


# -- erasure ----------------------------------------------------------------------------------


def request_erasure(store: Store, patient_id: int) -> None:
    """The patient asks for erasure (an admin confirms it); asking again keeps the first time."""
    store.db.execute(
        "UPDATE patients SET erasure_requested_at = COALESCE(erasure_requested_at, ?)"
        " WHERE id = ? AND erased_at IS NULL",
        (time.time(), patient_id),
    )


@dataclass(frozen=True)
class ErasureRequest:
    patient_id: int
    first_name: str
    requested_at: float
    visits: int
    busy: bool  # waiting or in a call now


def erasure_requests(store: Store) -> list[ErasureRequest]:
    """Requests not yet confirmed, oldest first."""
    rows = store.db.execute(
        "SELECT p.id, p.full_name, p.erasure_requested_at,"
        " (SELECT COUNT(*) FROM tickets t WHERE t.patient_id = p.id) AS visits"
        " FROM patients p WHERE p.erasure_requested_at IS NOT NULL AND p.erased_at IS NULL"
        " ORDER BY p.erasure_requested_at, p.id"
    ).fetchall()
    return [
        ErasureRequest(
            patient_id=r["id"],
            first_name=first_name(r["full_name"]),
            requested_at=r["erasure_requested_at"],
            visits=r["visits"],
            busy=_has_active_ticket(store, r["id"]),
        )
        for r in rows
    ]


def erase(store: Store, patient_id: int) -> bool:
    """Erase the patient's personal data and keep the anonymous statistics (see the module's
    docstring). False if there is no such patient or they were erased already. The caller then
    awaits wipe_free_space()."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT 1 FROM patients WHERE id = ? AND erased_at IS NULL", (patient_id,)
        ).fetchone()
        if row is None:
            return False
        if _has_active_ticket(store, patient_id):
            raise PatientBusy(patient_id)
        db.execute(
            "DELETE FROM chat_messages WHERE ticket_id IN"
            " (SELECT id FROM tickets WHERE patient_id = ?)",
            (patient_id,),
        )
        db.execute(
            "UPDATE tickets SET comment = '', priority_reasons = '' WHERE patient_id = ?",
            (patient_id,),
        )
        db.execute(
            "UPDATE patients SET cpf = ?, full_name = '', birth_date = '', phone = '', email = '',"
            " erased_at = ?, session_epoch = session_epoch + 1 WHERE id = ?",
            (f"apagado-{patient_id}", time.time(), patient_id),
        )
    store.wipe_pending = True
    return True


# -- retention --------------------------------------------------------------------------------


_ACTIVITY = (
    " SELECT id AS pid, created_at AS at FROM patients"
    " UNION ALL SELECT id, last_seen_at FROM patients"
    " UNION ALL SELECT patient_id, tested_at FROM device_tests"
    " UNION ALL SELECT patient_id, accepted_at FROM consents"
    " UNION ALL SELECT patient_id, arrived_at FROM tickets"
    " UNION ALL SELECT patient_id, ended_at FROM tickets"
    " UNION ALL SELECT patient_id, rated_at FROM tickets"
)


def inactive_candidates(db: sqlite3.Connection, days: int, now: float) -> list[int]:
    """Patients not erased whose latest activity (registration, sign-in, device test, consent,
    a visit's arrival, end or rating) is older than `days`: a scan of the whole history, which
    may run on a connection of its own (Store.read). erase_inactive checks each again."""
    rows = db.execute(
        f"SELECT a.pid FROM ({_ACTIVITY}) a JOIN patients p ON p.id = a.pid"  # noqa: S608
        " WHERE p.erased_at IS NULL GROUP BY a.pid HAVING MAX(a.at) < ? ORDER BY a.pid",
        (now - days * 86400,),
    ).fetchall()
    return [r[0] for r in rows]


def _inactive(store: Store, patient_id: int, days: int, now: float) -> bool:
    """Still inactive, and no visit under way (the patient may have come back since the scan)."""
    row = store.db.execute(
        f"SELECT MAX(at) FROM ({_ACTIVITY}) WHERE pid = ?",  # noqa: S608
        (patient_id,),
    ).fetchone()
    return (
        row[0] is not None
        and row[0] < now - days * 86400
        and not _has_active_ticket(store, patient_id)
    )


def erase_inactive(
    store: Store, days: int, now: float, candidates: list[int] | None = None
) -> list[int]:
    """Erase every patient inactive for `days` days (noted in the audit log as done by the
    system); returns their ids. `candidates`: the result of inactive_candidates, when it was
    read elsewhere; each is checked again here before it is erased."""
    if candidates is None:
        candidates = inactive_candidates(store.db, days, now)
    erased = [pid for pid in candidates if _inactive(store, pid, days, now) and erase(store, pid)]
    if erased:
        audit.record(store, None, "retention_erasure", erased, f"retention_days={days}")
    return erased


# -- refusing the terms -----------------------------------------------------------------------


def forget_refusal(store: Store, patient_id: int) -> bool:
    """The patient refused the terms: nothing of this attempt stays.

    The device tests made since their latest visit (they belonged to the visit now refused) are
    deleted. A registration with no visit and no consent (a new patient) is deleted whole:
    returns True. A returning patient keeps their earlier visits and consents (they may ask for
    erasure); nothing new is stored."""
    with store.transaction() as db:
        last_visit = db.execute(
            "SELECT COALESCE(MAX(arrived_at), 0) FROM tickets WHERE patient_id = ?", (patient_id,)
        ).fetchone()[0]
        db.execute(
            "DELETE FROM device_tests WHERE patient_id = ? AND tested_at > ?",
            (patient_id, last_visit),
        )
        history: int = db.execute(
            "SELECT (SELECT COUNT(*) FROM tickets WHERE patient_id = ?)"
            " + (SELECT COUNT(*) FROM consents WHERE patient_id = ?)"
            " + (SELECT COUNT(*) FROM device_tests WHERE patient_id = ?)",
            (patient_id, patient_id, patient_id),
        ).fetchone()[0]
        if history == 0:
            db.execute("DELETE FROM patients WHERE id = ?", (patient_id,))
    store.wipe_pending = True
    return history == 0
