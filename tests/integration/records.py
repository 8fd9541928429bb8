"""Finished visits and what the database file holds, for the records and privacy tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from web.config import Config
from web.queue import State
from web.store import Store


def end_visit(
    store: Store,
    cpf: str,
    professional_id: int,
    *,
    rating: int | None = None,
    comment: str = "",
    chat: Iterable[tuple[str, str]] = (),
) -> int:
    """The patient's waiting ticket, as if taken by the professional 60 s after arrival,
    connected 10 s later, ended 300 s after that and rated; returns the ticket id."""
    patient = store.patient_by_cpf(cpf)
    assert patient is not None
    ticket = store.active_ticket(patient.id)
    assert ticket is not None and ticket.state is State.WAITING
    t = ticket.arrived_at
    store.db.execute(
        "UPDATE tickets SET state = ?, professional_id = ?, called_at = ?, started_at = ?,"
        " ended_at = ?, end_reason = 'professional_hangup', rating = ?, comment = ?,"
        " rated_at = ? WHERE id = ?",
        (State.ENDED, professional_id, t + 60, t + 70, t + 370, rating, comment,
         t + 400 if rating else None, ticket.id),
    )  # fmt: skip
    for side, text in chat:
        store.add_chat(ticket.id, side, text)
    return ticket.id


def file_bytes(config: Config) -> bytes:
    """Everything SQLite keeps on disk for this database: the file and its write-ahead log."""
    path = Path(config.database_path)
    parts = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
    return b"".join(p.read_bytes() for p in parts if p.exists())
