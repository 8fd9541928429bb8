"""The database: schema, migrations and every query (SQLite, portable SQL)."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from web import queue
from web.accounts import first_name
from web.queue import Priority, State

T = TypeVar("T")

# Each entry moves the schema one version up (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        cpf TEXT NOT NULL UNIQUE,
        full_name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        phone TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT '',
        session_epoch INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE,
        council TEXT NOT NULL DEFAULT '',
        council_number TEXT NOT NULL DEFAULT '',
        council_uf TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('professional', 'admin')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'inactive')),
        available INTEGER NOT NULL DEFAULT 1,
        session_epoch INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE consents (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        terms_version TEXT NOT NULL,
        accepted_at REAL NOT NULL
    );
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        state TEXT NOT NULL,
        priority INTEGER NOT NULL,
        priority_reasons TEXT NOT NULL DEFAULT '',
        seq INTEGER NOT NULL,
        requeued INTEGER NOT NULL DEFAULT 0,
        no_shows INTEGER NOT NULL DEFAULT 0,
        device_summary TEXT NOT NULL DEFAULT '',
        arrived_at REAL NOT NULL,
        professional_id INTEGER REFERENCES staff(id),
        called_at REAL,
        started_at REAL,
        ended_at REAL,
        end_reason TEXT NOT NULL DEFAULT '',
        rating INTEGER CHECK (rating BETWEEN 1 AND 5),
        comment TEXT NOT NULL DEFAULT '',
        rated_at REAL
    );
    CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        sender TEXT NOT NULL CHECK (sender IN ('patient', 'professional')),
        text TEXT NOT NULL,
        sent_at REAL NOT NULL
    );
    CREATE TABLE device_tests (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        tested_at REAL NOT NULL,
        verdicts TEXT NOT NULL,
        summary TEXT NOT NULL,
        speaker_heard INTEGER
    );
    CREATE INDEX tickets_state ON tickets(state);
    CREATE INDEX tickets_patient ON tickets(patient_id);
    """,
    # 2: privacy (docs/privacy.md). A patient's last sign-in counts as activity for retention;
    # an erased patient stays as an anonymous row (tickets keep pointing at it, so statistics
    # stay whole). The audit log names people by id only and outlives everything else: its
    # patient_id has no foreign key on purpose.
    """
    ALTER TABLE patients ADD COLUMN last_seen_at REAL;
    ALTER TABLE patients ADD COLUMN erasure_requested_at REAL;
    ALTER TABLE patients ADD COLUMN erased_at REAL;
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        staff_id INTEGER REFERENCES staff(id),
        role TEXT NOT NULL CHECK (role IN ('professional', 'admin', 'system')),
        action TEXT NOT NULL,
        patient_id INTEGER,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE INDEX audit_log_patient ON audit_log(patient_id);
    CREATE INDEX consents_patient ON consents(patient_id);
    CREATE INDEX device_tests_patient ON device_tests(patient_id);
    CREATE INDEX chat_messages_ticket ON chat_messages(ticket_id);
    """,
)


@dataclass(frozen=True)
class Patient:
    id: int
    cpf: str
    full_name: str
    birth_date: date
    phone: str
    email: str
    session_epoch: int
    erasure_requested_at: float | None = None


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    email: str
    council: str
    council_number: str
    council_uf: str
    password_hash: str
    role: str
    status: str
    available: bool
    session_epoch: int

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Ticket:
    id: int
    patient_id: int
    state: State
    priority: Priority
    priority_reasons: tuple[str, ...]
    seq: int
    requeued: bool
    no_shows: int
    arrived_at: float
    professional_id: int | None
    called_at: float | None
    started_at: float | None
    ended_at: float | None
    end_reason: str
    rating: int | None
    comment: str
    device_summary: str


@dataclass(frozen=True)
class WaitingEntry:
    """A waiting ticket as the professional's list shows it."""

    ticket_id: int
    patient_id: int
    position: int
    first_name: str
    arrived_at: float
    priority: Priority
    priority_label: str
    device_summary: str


class EmailTaken(Exception):
    pass


class CpfTaken(Exception):
    pass


def _patient(row: sqlite3.Row) -> Patient:
    return Patient(
        id=row["id"],
        cpf=row["cpf"],
        full_name=row["full_name"],
        birth_date=date.fromisoformat(row["birth_date"]),
        phone=row["phone"],
        email=row["email"],
        session_epoch=row["session_epoch"],
        erasure_requested_at=row["erasure_requested_at"],
    )


def _staff(row: sqlite3.Row) -> Staff:
    values = {k: row[k] for k in row.keys() if k != "created_at"}  # noqa: SIM118
    return Staff(**values | {"available": bool(values["available"])})


def _ticket(row: sqlite3.Row) -> Ticket:
    return Ticket(
        id=row["id"],
        patient_id=row["patient_id"],
        state=State(row["state"]),
        priority=Priority(row["priority"]),
        priority_reasons=tuple(r for r in row["priority_reasons"].split(",") if r),
        seq=row["seq"],
        requeued=bool(row["requeued"]),
        no_shows=row["no_shows"],
        arrived_at=row["arrived_at"],
        professional_id=row["professional_id"],
        called_at=row["called_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        end_reason=row["end_reason"],
        rating=row["rating"],
        comment=row["comment"],
        device_summary=row["device_summary"],
    )


class Store:
    """All database access. Calls are short and synchronous: each runs to completion
    on the event loop, so no two requests interleave inside one."""

    def __init__(self, path: str) -> None:
        # Long reads (Store.read) and log truncations run in threads on connections of their
        # own, one at a time: a truncation waits for readers, and writers on the loop wait for
        # it, so neither ever waits on the event loop for the other.
        self._file = None if path == ":memory:" else Path(path).resolve()
        self._one_at_a_time = asyncio.Lock()
        # Set after an erasure: the write-ahead log may still hold the erased data's old pages
        # until truncate_log() succeeds (web/privacy.py).
        self.wipe_pending = False
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA busy_timeout = 5000")
        # Deleted content is overwritten with zeros, so an erased patient's data does not
        # linger in free pages of the file (docs/privacy.md).
        self.db.execute("PRAGMA secure_delete = ON")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run a long read (a scan of the whole history) in a thread, on a read-only connection
        of its own, so the event loop goes on serving pages meanwhile; with WAL the read blocks
        no writer. An in-memory database has no second connection: there it runs on the loop."""
        if self._file is None:
            return query(self.db)
        uri = self._file.as_uri() + "?mode=ro"

        def run() -> T:
            db = sqlite3.connect(uri, uri=True)
            try:
                db.execute("PRAGMA busy_timeout = 5000")
                return query(db)
            finally:
                db.close()

        async with self._one_at_a_time:
            return await asyncio.to_thread(run)

    async def truncate_log(self) -> bool:
        """Move the write-ahead log into the database file and empty it, in a thread on a
        connection of its own; False if a reader (another process) held on past the busy
        timeout, so the log could not be emptied now."""
        if self._file is None:
            return True
        path = str(self._file)

        def run() -> bool:
            db = sqlite3.connect(path)
            try:
                db.execute("PRAGMA busy_timeout = 5000")
                return bool(db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0)
            finally:
                db.close()

        async with self._one_at_a_time:
            return await asyncio.to_thread(run)

    def change_mark(self) -> tuple[int, int]:
        """Differs from an earlier mark once anything was written to the database since, by
        this process (total_changes) or by any other connection (PRAGMA data_version)."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        return self.db.total_changes, int(version)

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: one writer at a time, even across processes."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- patients -------------------------------------------------------------------

    def create_patient(
        self, cpf: str, full_name: str, birth_date: date, phone: str, email: str
    ) -> Patient:
        # A random first epoch: a registration deleted at once (terms refused) frees its id for
        # the next one, and a copy of the old session cookie must not fit the new patient.
        epoch = secrets.randbelow(2**31)
        try:
            cur = self.db.execute(
                "INSERT INTO patients (cpf, full_name, birth_date, phone, email, session_epoch,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cpf, full_name, birth_date.isoformat(), phone, email, epoch, time.time()),
            )
        except sqlite3.IntegrityError as exc:
            raise CpfTaken from exc
        patient = self.patient(int(cur.lastrowid or 0))
        assert patient is not None
        return patient

    def patient(self, patient_id: int) -> Patient | None:
        """A registered patient; None for an unknown or erased one."""
        row = self.db.execute(
            "SELECT * FROM patients WHERE id = ? AND erased_at IS NULL", (patient_id,)
        ).fetchone()
        return _patient(row) if row else None

    def patient_by_cpf(self, cpf: str) -> Patient | None:
        row = self.db.execute(
            "SELECT * FROM patients WHERE cpf = ? AND erased_at IS NULL", (cpf,)
        ).fetchone()
        return _patient(row) if row else None

    def patient_seen(self, patient_id: int) -> None:
        """The patient signed in (activity, for privacy.retention_days)."""
        self.db.execute(
            "UPDATE patients SET last_seen_at = ? WHERE id = ?", (time.time(), patient_id)
        )

    def end_sessions(self, table: str, row_id: int) -> None:
        """Sign out everywhere: sessions remember the epoch they were made in."""
        if table not in ("patients", "staff"):
            raise ValueError(table)
        self.db.execute(
            f"UPDATE {table} SET session_epoch = session_epoch + 1 WHERE id = ?",  # noqa: S608
            (row_id,),
        )

    def record_consent(self, patient_id: int, terms_version: str) -> None:
        self.db.execute(
            "INSERT INTO consents (patient_id, terms_version, accepted_at) VALUES (?, ?, ?)",
            (patient_id, terms_version, time.time()),
        )

    def has_consent(self, patient_id: int, terms_version: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM consents WHERE patient_id = ? AND terms_version = ?",
            (patient_id, terms_version),
        ).fetchone()
        return row is not None

    def last_consent_version(self, patient_id: int) -> str | None:
        """The version of the terms the patient accepted last; None if never."""
        row = self.db.execute(
            "SELECT terms_version FROM consents WHERE patient_id = ?"
            " ORDER BY accepted_at DESC, id DESC LIMIT 1",
            (patient_id,),
        ).fetchone()
        return str(row[0]) if row else None

    # -- staff ----------------------------------------------------------------------

    def create_staff(
        self,
        *,
        name: str,
        email: str,
        password_hash: str,
        role: str,
        status: str,
        council: str = "",
        council_number: str = "",
        council_uf: str = "",
    ) -> Staff:
        try:
            cur = self.db.execute(
                "INSERT INTO staff (name, email, council, council_number, council_uf,"
                " password_hash, role, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, email, council, council_number, council_uf, password_hash, role, status,
                 time.time()),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise EmailTaken from exc
        staff = self.staff(int(cur.lastrowid or 0))
        assert staff is not None
        return staff

    def staff(self, staff_id: int) -> Staff | None:
        row = self.db.execute("SELECT * FROM staff WHERE id = ?", (staff_id,)).fetchone()
        return _staff(row) if row else None

    def staff_by_email(self, email: str) -> Staff | None:
        row = self.db.execute(
            "SELECT * FROM staff WHERE email = ?", (email.strip().lower(),)
        ).fetchone()
        return _staff(row) if row else None

    def pending_professionals(self) -> list[Staff]:
        rows = self.db.execute(
            "SELECT * FROM staff WHERE status = 'pending' ORDER BY created_at"
        ).fetchall()
        return [_staff(r) for r in rows]

    def approve(self, staff_id: int) -> bool:
        cur = self.db.execute(
            "UPDATE staff SET status = 'approved' WHERE id = ? AND status = 'pending'",
            (staff_id,),
        )
        return cur.rowcount == 1

    def set_status(self, staff_id: int, status: str) -> bool:
        """approved <-> inactive (a pending one is approved with approve())."""
        allowed = {"inactive": "approved", "approved": "inactive"}
        cur = self.db.execute(
            "UPDATE staff SET status = ? WHERE id = ? AND status = ?",
            (status, staff_id, allowed[status]),
        )
        return cur.rowcount == 1

    def set_password(self, staff_id: int, password_hash: str) -> None:
        self.db.execute(
            "UPDATE staff SET password_hash = ?, session_epoch = session_epoch + 1 WHERE id = ?",
            (password_hash, staff_id),
        )

    def has_admin(self) -> bool:
        return self.db.execute("SELECT 1 FROM staff WHERE role = 'admin'").fetchone() is not None

    # -- tickets --------------------------------------------------------------------

    def ticket(self, ticket_id: int) -> Ticket | None:
        row = self.db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return _ticket(row) if row else None

    def active_ticket(self, patient_id: int) -> Ticket | None:
        row = self.db.execute(
            "SELECT * FROM tickets WHERE patient_id = ? AND state IN (?, ?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (patient_id, *queue.ACTIVE_STATES),
        ).fetchone()
        return _ticket(row) if row else None

    def record_device_test(self, patient_id: int, verdicts: str, summary: str) -> int:
        cur = self.db.execute(
            "INSERT INTO device_tests (patient_id, tested_at, verdicts, summary)"
            " VALUES (?, ?, ?, ?)",
            (patient_id, time.time(), verdicts, summary),
        )
        return int(cur.lastrowid or 0)

    def set_speaker_heard(self, patient_id: int, heard: bool, summary: str) -> bool:
        """Record the speaker check on the patient's latest device test."""
        cur = self.db.execute(
            "UPDATE device_tests SET speaker_heard = ?, summary = ? WHERE id ="
            " (SELECT MAX(id) FROM device_tests WHERE patient_id = ?)",
            (int(heard), summary, patient_id),
        )
        return cur.rowcount == 1

    def latest_device_test(self, patient_id: int, since: float) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM device_tests WHERE patient_id = ? AND tested_at >= ?"
            " ORDER BY id DESC LIMIT 1",
            (patient_id, since),
        ).fetchone()
        return row

    def join_queue(self, patient_id: int, decision: queue.PriorityDecision) -> Ticket:
        """The patient's active ticket, or a new waiting one: never two. The ticket carries
        the summary of the patient's device test of the last two hours."""
        with self.transaction() as db:
            existing = self.active_ticket(patient_id)
            if existing is not None:
                return existing
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets").fetchone()[0]
            test = self.latest_device_test(patient_id, time.time() - 2 * 3600)
            cur = db.execute(
                "INSERT INTO tickets (patient_id, state, priority, priority_reasons, seq,"
                " arrived_at, device_summary) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (patient_id, State.WAITING, int(decision.priority), ",".join(decision.reasons),
                 seq, time.time(), test["summary"] if test else "sem teste"),
            )  # fmt: skip
        ticket = self.ticket(int(cur.lastrowid or 0))
        assert ticket is not None
        return ticket

    def _waiting(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT t.id, t.patient_id, t.priority, t.priority_reasons, t.seq, t.requeued,"
            " t.arrived_at, t.device_summary, p.full_name FROM tickets t"
            " JOIN patients p ON p.id = t.patient_id"
            " WHERE t.state = ?",
            (State.WAITING,),
        ).fetchall()

    @staticmethod
    def _order(rows: list[sqlite3.Row]) -> list[queue.Waiting]:
        return queue.ordered(
            queue.Waiting(r["id"], Priority(r["priority"]), r["seq"], bool(r["requeued"]))
            for r in rows
        )

    def waiting(self) -> list[WaitingEntry]:
        """Waiting tickets in serving order, with positions 1..n."""
        rows = {r["id"]: r for r in self._waiting()}
        entries = []
        for i, w in enumerate(self._order(list(rows.values())), start=1):
            row = rows[w.ticket_id]
            reasons = tuple(r for r in row["priority_reasons"].split(",") if r)
            entries.append(
                WaitingEntry(
                    ticket_id=w.ticket_id,
                    patient_id=row["patient_id"],
                    position=i,
                    first_name=first_name(row["full_name"]),
                    arrived_at=row["arrived_at"],
                    priority=w.priority,
                    priority_label=queue.PriorityDecision(w.priority, reasons).label,
                    device_summary=row["device_summary"],
                )
            )
        return entries

    def current_call(self, professional_id: int) -> Ticket | None:
        row = self.db.execute(
            "SELECT * FROM tickets WHERE professional_id = ? AND state IN (?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (professional_id, State.CALLED, State.IN_CALL),
        ).fetchone()
        return _ticket(row) if row else None

    def calls(self) -> list[Ticket]:
        """Every ticket taken by a professional and not over (called or in call)."""
        rows = self.db.execute(
            "SELECT * FROM tickets WHERE state IN (?, ?) ORDER BY id", (State.CALLED, State.IN_CALL)
        ).fetchall()
        return [_ticket(r) for r in rows]

    def take_next(self, professional_id: int) -> tuple[Ticket | None, bool]:
        """Atomically give the head of the queue to this professional.

        Returns (ticket, new): the professional's current call with new=False if they already
        have one (a double click changes nothing), or (None, False) when nobody waits."""
        with self.transaction() as db:
            current = self.current_call(professional_id)
            if current is not None:
                return current, False
            order = self._order(self._waiting())
            if not order:
                return None, False
            head = order[0].ticket_id
            cur = db.execute(
                "UPDATE tickets SET state = ?, professional_id = ?, called_at = ?"
                " WHERE id = ? AND state = ?",
                (State.CALLED, professional_id, time.time(), head, State.WAITING),
            )
            if cur.rowcount != 1:  # pragma: no cover - impossible inside BEGIN IMMEDIATE
                raise RuntimeError("ticket changed during take-next")
        return self.ticket(head), True

    def move(self, ticket_id: int, target: State, *, reason: str = "") -> Ticket | None:
        """Move a ticket along the state machine; None if the move is not allowed.

        Moving back to waiting puts the ticket at the head of the queue and frees the
        professional."""
        with self.transaction() as db:
            ticket = self.ticket(ticket_id)
            if ticket is None or not queue.can_move(ticket.state, target):
                return None
            now = time.time()
            if target is State.IN_CALL:
                db.execute(
                    "UPDATE tickets SET state = ?, started_at = ? WHERE id = ?",
                    (target, now, ticket_id),
                )
            elif target in (State.ENDED, State.LEFT):
                db.execute(
                    "UPDATE tickets SET state = ?, ended_at = ?, end_reason = ? WHERE id = ?",
                    (target, now, reason, ticket_id),
                )
            elif target is State.WAITING:
                db.execute(
                    "UPDATE tickets SET state = ?, requeued = 1, professional_id = NULL,"
                    " called_at = NULL, started_at = NULL, end_reason = ? WHERE id = ?",
                    (target, reason, ticket_id),
                )
            else:
                db.execute("UPDATE tickets SET state = ? WHERE id = ?", (target, ticket_id))
        return self.ticket(ticket_id)

    def no_show(self, ticket_id: int) -> Ticket | None:
        """A called patient who never connected: back to the head once, then removed."""
        ticket = self.ticket(ticket_id)
        if ticket is None or ticket.state is not State.CALLED:
            return None
        self.db.execute("UPDATE tickets SET no_shows = no_shows + 1 WHERE id = ?", (ticket_id,))
        return self.move(ticket_id, queue.after_no_show(ticket.no_shows), reason="no_show")

    def recent_durations(self, limit: int = 20) -> list[float]:
        """Durations in seconds of the latest calls that really took place."""
        rows = self.db.execute(
            "SELECT ended_at - started_at FROM tickets WHERE state = ? AND started_at IS NOT NULL"
            " AND ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT ?",
            (State.ENDED, limit),
        ).fetchall()
        return [float(r[0]) for r in rows]

    def set_available(self, staff_id: int, available: bool) -> None:
        self.db.execute("UPDATE staff SET available = ? WHERE id = ?", (int(available), staff_id))

    def add_chat(self, ticket_id: int, sender: str, text: str) -> None:
        self.db.execute(
            "INSERT INTO chat_messages (ticket_id, sender, text, sent_at) VALUES (?, ?, ?, ?)",
            (ticket_id, sender, text, time.time()),
        )

    def ticket_to_rate(self, patient_id: int) -> Ticket | None:
        """The patient's latest call that ended after starting, not rated nor skipped."""
        row = self.db.execute(
            "SELECT * FROM tickets WHERE patient_id = ? AND state = ? AND rated_at IS NULL"
            " AND professional_id IS NOT NULL AND started_at IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (patient_id, State.ENDED),
        ).fetchone()
        return _ticket(row) if row else None

    def rate(self, ticket_id: int, rating: int | None, comment: str) -> bool:
        """Store the rating (None: the patient chose not to rate)."""
        cur = self.db.execute(
            "UPDATE tickets SET rating = ?, comment = ?, rated_at = ?"
            " WHERE id = ? AND state = ? AND rated_at IS NULL",
            (rating, comment, time.time(), ticket_id, State.ENDED),
        )
        return cur.rowcount == 1
