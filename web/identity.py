"""Who is calling: the patient or staff member behind a session, and role checks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from web.keys import STORE
from web.store import Patient, Staff
from web.text import _


@dataclass(frozen=True)
class Caller:
    """The signed-in person of a request, if any (at most one patient and one staff)."""

    patient: Patient | None
    staff: Staff | None

    @property
    def professional(self) -> Staff | None:
        """An approved professional (admins count too: they may attend)."""
        if self.staff is not None and self.staff.status == "approved":
            return self.staff
        return None

    @property
    def admin(self) -> Staff | None:
        staff = self.professional
        return staff if staff is not None and staff.is_admin else None


async def caller(request: web.Request) -> Caller:
    session = await get_session(request)
    store = request.app[STORE]
    patient_id = session.get("patient_id")
    staff_id = session.get("staff_id")
    patient = store.patient(patient_id) if isinstance(patient_id, int) else None
    staff = store.staff(staff_id) if isinstance(staff_id, int) else None
    # A session made before the person signed out (anywhere) no longer counts.
    if patient is not None and session.get("patient_epoch") != patient.session_epoch:
        patient = None
    if staff is not None and (
        staff.status == "inactive" or session.get("staff_epoch") != staff.session_epoch
    ):
        staff = None
    return Caller(patient=patient, staff=staff)


async def sign_in_patient(request: web.Request, patient: Patient) -> Session:
    """A fresh session for the patient (a new cookie: no fixation)."""
    session = await new_session(request)
    session["patient_id"] = patient.id
    session["patient_epoch"] = patient.session_epoch
    return session


async def sign_in_staff(request: web.Request, staff: Staff, sign_in: str = "") -> Session:
    """A new session for this staff member. sign_in: the id of this browser's sign-in, kept
    when the same person signs in again here (a password change); new otherwise."""
    session = await new_session(request)
    session["staff_id"] = staff.id
    session["staff_epoch"] = staff.session_epoch
    session["sign_in"] = sign_in or secrets.token_urlsafe(12)
    return session


async def sign_in_id(request: web.Request) -> str:
    """The id of this browser's sign-in ("" for none): sockets remember the one they opened
    with, so that "sign out everywhere else" leaves this browser's pages alone."""
    value = (await get_session(request)).get("sign_in", "")
    return value if isinstance(value, str) else ""


async def sign_out(request: web.Request, who: Literal["patient", "staff"]) -> None:
    """End this person's sessions everywhere (a copied cookie stops working too)."""
    session = await get_session(request)
    subject = session.pop(f"{who}_id", None)
    session.pop(f"{who}_epoch", None)
    if isinstance(subject, int):
        request.app[STORE].end_sessions("patients" if who == "patient" else "staff", subject)


async def require_patient(request: web.Request) -> Patient:
    who = await caller(request)
    if who.patient is None:
        raise web.HTTPSeeOther("/paciente/entrar")
    return who.patient


async def require_professional(request: web.Request) -> Staff:
    who = await caller(request)
    if who.professional is None:
        raise web.HTTPSeeOther("/profissional/entrar")
    return who.professional


async def require_admin(request: web.Request) -> Staff:
    who = await caller(request)
    if who.admin is None:
        if who.professional is not None:
            raise web.HTTPForbidden(text=_("Apenas administradores podem abrir esta página."))
        raise web.HTTPSeeOther("/profissional/entrar")
    return who.admin
