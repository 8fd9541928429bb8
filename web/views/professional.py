"""Professional pages: registration, log in/out, the waiting list, take-next and the call."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from web import accounts, audit
from web.hub import staff_key
from web.identity import caller, require_professional, sign_in_id, sign_in_staff, sign_out
from web.keys import GUARDS, HUB, STORE, VISITS
from web.queue import REMOVAL_REASONS
from web.security import read_form
from web.store import EmailTaken
from web.text import _
from web.throttle import TOO_MANY_REGISTRATIONS, wait_text
from web.views.common import render_call
from web.views.language import translated

NOBODY_WAITING = _("Não há ninguém aguardando no momento.")

# Why a professional is back on the list (?aviso=code).
DASHBOARD_NOTICES = {
    "no_show": _("O paciente não se conectou a tempo e voltou para o início da fila."),
    "lost": _("O paciente perdeu a conexão e o atendimento foi encerrado."),
    "professional_lost": _(
        "Sua conexão caiu por tempo demais; o paciente voltou ao início da fila."
    ),
    "patient_hangup": _("O paciente encerrou o atendimento."),
    "professional_hangup": _(
        "O atendimento foi encerrado antes de começar; o paciente voltou ao início da fila."
    ),
    "no_connection": _("O vídeo do paciente não conectou; o paciente voltou ao início da fila."),
    "professional_no_media": _(
        "O seu vídeo não conectou; o paciente voltou ao início da fila. Confira a câmera e a"
        " conexão antes de atender de novo."
    ),
}


def _register_context(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    safe = {k: v for k, v in values.items() if not k.startswith("password")}
    return {
        "values": safe,
        "errors": errors,
        "council_options": [(k, f"{k} — {v}") for k, v in accounts.COUNCILS.items()],
        "uf_options": [(uf, uf) for uf in accounts.UFS],
    }


async def register_form(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template(
        "professional/register.html", request, _register_context({}, {})
    )


async def register(request: web.Request) -> web.Response:
    form = await read_form(request)
    parsed, errors = accounts.validate_professional(form)
    if parsed is not None and not request.app[GUARDS].registrations.allow(f"ip:{request.remote}"):
        parsed, errors = None, {"email": TOO_MANY_REGISTRATIONS}
    if parsed is not None:
        try:
            request.app[STORE].create_staff(
                name=parsed.name,
                email=parsed.email,
                council=parsed.council,
                council_number=parsed.council_number,
                council_uf=parsed.council_uf,
                password_hash=await asyncio.to_thread(accounts.hash_password, parsed.password),
                role="professional",
                status="pending",
            )
        except EmailTaken:
            errors = {"email": _("Já existe um cadastro com este e-mail. Entre com a sua senha.")}
        else:
            return aiohttp_jinja2.render_template("professional/registered.html", request, {})
    return aiohttp_jinja2.render_template(
        "professional/register.html", request, _register_context(form, errors), status=422
    )


def _login(request: web.Request, email: str, error: str, status: int) -> web.Response:
    return aiohttp_jinja2.render_template(
        "professional/login.html", request, {"email": email, "error": error}, status=status
    )


async def login_form(request: web.Request) -> web.StreamResponse:
    who = await caller(request)
    if who.professional is not None:
        raise web.HTTPSeeOther("/profissional")
    return _login(request, "", "", 200)


async def login(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    email = form.get("email", "").strip().lower()
    password = form.get("password", "")
    if not email or not password:  # nothing was tried: not a failed sign-in
        return _login(request, email, _("Informe o e-mail e a senha."), 422)
    guards, account, address = request.app[GUARDS], f"email:{email}", f"ip:{request.remote}"
    wait = guards.sign_in_attempt(account, address)
    if wait:
        return _login(request, email, wait_text(wait), 429)
    staff = request.app[STORE].staff_by_email(email)
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop (media runs there).
    # An unknown e-mail is checked against a dummy hash, so both take the same time.
    stored = staff.password_hash if staff is not None else accounts.DUMMY_HASH
    if not await asyncio.to_thread(accounts.verify_password, stored, password) or staff is None:
        return _login(request, email, _("E-mail ou senha incorretos."), 401)
    guards.signed_in(account, address)
    if staff.status == "pending":
        return _login(
            request, email, _("Seu cadastro ainda aguarda a aprovação de um administrador."), 403
        )
    if staff.status != "approved":
        return _login(request, email, _("Este cadastro está desativado."), 403)
    await sign_in_staff(request, staff)
    raise web.HTTPSeeOther("/admin" if staff.is_admin else "/profissional")


def _password_page(request: web.Request, errors: dict[str, str], status: int) -> web.Response:
    return aiohttp_jinja2.render_template(
        "professional/password.html", request, {"errors": errors}, status=status
    )


async def password_form(request: web.Request) -> web.StreamResponse:
    await require_professional(request)
    return _password_page(request, {}, 200)


async def change_password(request: web.Request) -> web.StreamResponse:
    """A professional or admin changes their own password: the current one is checked (and
    counts as a sign-in attempt); every other session of theirs ends, this one goes on."""
    staff = await require_professional(request)
    form = await read_form(request)
    guards, account, address = request.app[GUARDS], f"email:{staff.email}", f"ip:{request.remote}"
    errors: dict[str, str] = {}
    current = form.get("current_password", "")
    if not current:
        errors["current_password"] = _("Informe a sua senha atual.")
    elif wait := guards.sign_in_attempt(account, address):
        return _password_page(request, {"current_password": wait_text(wait)}, 429)
    elif not await asyncio.to_thread(accounts.verify_password, staff.password_hash, current):
        errors["current_password"] = _("Senha atual incorreta.")
    else:
        guards.signed_in(account, address)
    errors |= accounts.new_password_errors(form)
    if errors:
        return _password_page(request, errors, 422)
    store = request.app[STORE]
    store.set_password(staff.id, await asyncio.to_thread(accounts.hash_password, form["password"]))
    here = await sign_in_id(request)
    await request.app[HUB].close(staff_key(staff.id), keep_sign_in=here)  # pages elsewhere
    changed = store.staff(staff.id)
    assert changed is not None
    session = await sign_in_staff(request, changed, here)
    session["notice"] = translated(
        request, _("Senha alterada. Suas outras sessões foram encerradas.")
    )
    raise web.HTTPSeeOther("/admin" if changed.is_admin else "/profissional")


async def logout(request: web.Request) -> web.StreamResponse:
    who = await caller(request)
    await sign_out(request, "staff")
    if who.staff is not None:
        await request.app[HUB].close(staff_key(who.staff.id))
    raise web.HTTPSeeOther("/profissional/entrar")


async def dashboard(request: web.Request) -> web.StreamResponse:
    staff = await require_professional(request)
    if request.app[STORE].current_call(staff.id) is not None:
        raise web.HTTPSeeOther("/profissional/consulta")
    session = await get_session(request)
    notice = session.pop("notice", "") or DASHBOARD_NOTICES.get(request.query.get("aviso", ""), "")
    context = {"staff": staff, "notice": notice, "reasons": REMOVAL_REASONS}
    return aiohttp_jinja2.render_template("professional/dashboard.html", request, context)


async def take_next(request: web.Request) -> web.StreamResponse:
    staff = await require_professional(request)
    ticket = await request.app[VISITS].take_next(staff)
    if ticket is None:
        session = await get_session(request)
        session["notice"] = translated(request, NOBODY_WAITING)
        raise web.HTTPSeeOther("/profissional")
    audit.record(request.app[STORE], staff, "take", [ticket.patient_id], f"ticket={ticket.id}")
    raise web.HTTPSeeOther("/profissional/consulta")


async def call_page(request: web.Request) -> web.StreamResponse:
    staff = await require_professional(request)
    ticket = request.app[STORE].current_call(staff.id)
    if ticket is None:
        raise web.HTTPSeeOther("/profissional")
    patient = request.app[STORE].patient(ticket.patient_id)
    label = patient.full_name if patient else _("Paciente")
    audit.record(request.app[STORE], staff, "call_page", [ticket.patient_id], f"ticket={ticket.id}")
    return render_call(request, "professional", "/profissional", label)
