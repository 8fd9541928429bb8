"""The audit log: which staff member opened which patient's data, and when (LGPD Art. 37).

Entries name people by id only (never a CPF or a name), and they outlive everything else: an
erased patient's entries stay, pointing at the anonymous row that replaced them. Admins read
them on /admin/auditoria.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from web.store import Staff, Store
from web.text import _

# What was done (code -> what the audit page shows). Professionals: when a patient's data is
# shown to them. Admins: visit records, exports, erasure. The system: automatic erasure.
ACTIONS: dict[str, str] = {
    "take": _("Chamou o paciente da fila"),
    "call_page": _("Abriu a página da consulta"),
    "visit_record": _("Abriu o registro do atendimento"),
    "visit_export": _("Exportou o registro do atendimento"),
    "visits_export": _("Exportou registros de atendimentos"),
    "erasure": _("Confirmou a exclusão dos dados"),
    "retention_erasure": _("Exclusão automática por inatividade"),
}
ROLES: dict[str, str] = {
    "professional": _("Profissional"),
    "admin": _("Administrador"),
    "system": _("Sistema"),
}


@dataclass(frozen=True)
class Entry:
    id: int
    at: float
    staff_id: int | None
    staff_name: str
    role: str
    action: str
    patient_id: int | None
    detail: str

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def record(
    store: Store, by: Staff | None, action: str, patient_ids: Iterable[int], detail: str = ""
) -> None:
    """One entry per patient whose data `by` opened (None: the system itself)."""
    if action not in ACTIONS:
        raise ValueError(action)
    now = time.time()
    role = by.role if by is not None else "system"
    staff_id = by.id if by is not None else None
    store.db.executemany(
        "INSERT INTO audit_log (at, staff_id, role, action, patient_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(now, staff_id, role, action, pid, detail) for pid in sorted(set(patient_ids))],
    )


@dataclass(frozen=True)
class AuditFilter:
    """Entries in [start, end), optionally of one staff member, patient or action."""

    start: float
    end: float
    staff_id: int | None = None
    patient_id: int | None = None
    action: str | None = None


def entries(store: Store, which: AuditFilter, limit: int = 1000) -> list[Entry]:
    """Matching entries, newest first (at most `limit`)."""
    query = (
        "SELECT a.*, s.name AS staff_name FROM audit_log a LEFT JOIN staff s ON s.id = a.staff_id"
        " WHERE a.at >= ? AND a.at < ?"
    )
    params: list[object] = [which.start, which.end]
    for column, value in (
        ("a.staff_id", which.staff_id),
        ("a.patient_id", which.patient_id),
        ("a.action", which.action),
    ):
        if value is not None:
            query += f" AND {column} = ?"
            params.append(value)
    rows = store.db.execute(query + " ORDER BY a.at DESC, a.id DESC LIMIT ?", [*params, limit])
    return [
        Entry(
            id=r["id"],
            at=r["at"],
            staff_id=r["staff_id"],
            staff_name=r["staff_name"] or "",
            role=r["role"],
            action=r["action"],
            patient_id=r["patient_id"],
            detail=r["detail"],
        )
        for r in rows.fetchall()
    ]
