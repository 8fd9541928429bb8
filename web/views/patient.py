"""Patient pages: registration, look-up, terms, waiting, call and rating."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from web import accounts, queue
from web.hub import patient_key
from web.identity import caller, require_patient, sign_in_patient, sign_out
from web.keys import CONFIG, DEVICE_TESTS, GUARDS, HUB, STORE, VISITS
from web.queue import State
from web.security import read_form
from web.store import CpfTaken, Patient
from web.text import _
from web.throttle import TOO_MANY_REGISTRATIONS, wait_text
from web.views.common import ice_context, render_call, terms_paragraphs
from web.views.language import request_locale

MAX_COMMENT = 1000

# Why a patient is back on the waiting page (?aviso=code).
WAITING_NOTICES = {
    "no_show": _("Não conseguimos conectar você a tempo. Você voltou para o início da fila."),
    "professional_lost": _("O profissional perdeu a conexão. Você voltou para o início da fila."),
}


@aiohttp_jinja2.template("patient/register.html")
async def register_form(request: web.Request) -> dict[str, Any]:
    return {"values": {}, "errors": {}}


async def register(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    parsed, errors = accounts.validate_patient(form, date.today())
    if parsed is None:
        return _render_register(request, form, errors)
    if not request.app[GUARDS].registrations.allow(f"ip:{request.remote}"):
        return _render_register(request, form, {"cpf": TOO_MANY_REGISTRATIONS}, status=429)
    store = request.app[STORE]
    if store.patient_by_cpf(parsed.cpf) is not None:
        return _render_lookup(
            request,
            {"cpf": form.get("cpf", ""), "birth_date": form.get("birth_date", "")},
            {},
            notice=_(
                "Este CPF já está cadastrado. Confirme a sua data de nascimento para continuar."
            ),
        )
    try:
        patient = store.create_patient(
            parsed.cpf, parsed.full_name, parsed.birth_date, parsed.phone, parsed.email
        )
    except CpfTaken:  # registered by another tab a moment ago
        return _render_lookup(request, {"cpf": form.get("cpf", "")}, {})
    await sign_in_patient(request, patient)
    raise web.HTTPSeeOther("/paciente/teste")


def _render_register(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 422
) -> web.Response:
    return aiohttp_jinja2.render_template(
        "patient/register.html", request, {"values": values, "errors": errors}, status=status
    )


def _render_lookup(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    notice: str = "",
    status: int = 200,
) -> web.Response:
    return aiohttp_jinja2.render_template(
        "patient/lookup.html",
        request,
        {"values": values, "errors": errors, "notice": notice},
        status=status,
    )


async def lookup_form(request: web.Request) -> web.Response:
    # ?para=dados: after the look-up, the patient's own data page (privacy views)
    return _render_lookup(request, {"para": request.query.get("para", "")}, {})


async def lookup(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    errors: dict[str, str] = {}
    cpf = accounts.normalize_cpf(form.get("cpf", ""))
    if not cpf:
        errors["cpf"] = _("Informe o seu CPF.")
    elif not accounts.cpf_is_valid(cpf):
        errors["cpf"] = _("CPF inválido. Confira os 11 números.")
    born = accounts.parse_birth_date(form.get("birth_date", ""), date.today())
    if born is None:
        errors["birth_date"] = _("Informe a data de nascimento.")
    if errors:
        return _render_lookup(request, form, errors, status=422)
    guards, account, address = request.app[GUARDS], f"cpf:{cpf}", f"ip:{request.remote}"
    wait = guards.sign_in_attempt(account, address)
    if wait:
        return _render_lookup(request, form, {"birth_date": wait_text(wait)}, status=429)
    patient = request.app[STORE].patient_by_cpf(cpf)
    if patient is None or patient.birth_date != born:
        return _render_lookup(
            request,
            form,
            {"birth_date": _("CPF ou data de nascimento não conferem com o cadastro.")},
            status=422,
        )
    guards.signed_in(account, address)
    request.app[STORE].patient_seen(patient.id)
    await sign_in_patient(request, patient)
    if form.get("para") == "dados":
        raise web.HTTPSeeOther("/paciente/dados")
    raise web.HTTPSeeOther(_next_page(request, patient.id))


async def logout(request: web.Request) -> web.StreamResponse:
    who = await caller(request)
    await sign_out(request, "patient")
    if who.patient is not None:
        await request.app[HUB].close(patient_key(who.patient.id))
    raise web.HTTPSeeOther("/")


def _next_page(request: web.Request, patient_id: int) -> str:
    """Where a signed-in patient continues: their visit if one is open, else the terms."""
    ticket = request.app[STORE].active_ticket(patient_id)
    if ticket is None:
        if request.app[STORE].ticket_to_rate(patient_id) is not None:
            return "/paciente/avaliacao"
        return "/paciente/teste"
    if ticket.state is State.WAITING:
        return "/paciente/fila"
    return "/paciente/consulta"


def _render_terms(
    request: web.Request,
    patient: Patient,
    error: str,
    status: int,
    declared: Sequence[str] = (),
) -> web.Response:
    config = request.app[CONFIG]
    age = accounts.age_on(patient.birth_date, date.today())
    accepted = request.app[STORE].last_consent_version(patient.id)
    context = {
        "paragraphs": terms_paragraphs(config, request_locale(request)),
        "version": config.terms.version,
        # a returning patient who accepted an older version is told the terms changed
        "previous_version": accepted if accepted not in (None, config.terms.version) else "",
        "first_name": accounts.first_name(patient.full_name),
        "error": error,
        "priority_enabled": config.queue.priority_enabled,
        "age_priority": age >= 60,
        "conditions": queue.DECLARABLE,
        "declared": declared,  # ticked before an error: still ticked
    }
    return aiohttp_jinja2.render_template("patient/terms.html", request, context, status=status)


async def device_test_page(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    if request.app[STORE].active_ticket(patient.id) is not None:
        raise web.HTTPSeeOther(_next_page(request, patient.id))
    config = request.app[CONFIG]
    context = {"seconds": config.device_test.seconds, **ice_context(request)}
    return aiohttp_jinja2.render_template("patient/device_test.html", request, context)


async def device_test_done(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    speaker = (await read_form(request)).get("speaker")
    if speaker in ("yes", "no"):
        request.app[DEVICE_TESTS].speaker_checked(patient.id, speaker == "yes")
    raise web.HTTPSeeOther("/paciente/termos")


async def terms_page(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    if request.app[STORE].active_ticket(patient.id) is not None:  # e.g. Back from the queue
        raise web.HTTPSeeOther(_next_page(request, patient.id))
    return _render_terms(request, patient, "", 200)


async def accept_terms(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    form = await read_form(request)
    config = request.app[CONFIG]
    declared = [code for code in queue.DECLARABLE if form.get(f"priority_{code}") == "yes"]
    if form.get("accept") != "yes":
        error = _("Para continuar, marque que você leu e aceita os termos de uso.")
        return _render_terms(request, patient, error, 422, declared)
    store = request.app[STORE]
    if form.get("version") == config.terms.version:
        store.record_consent(patient.id, config.terms.version)
    else:  # the terms changed while the page was open: show the new text
        raise web.HTTPSeeOther("/paciente/termos")
    await request.app[VISITS].join(patient, declared)
    raise web.HTTPSeeOther("/paciente/fila")


async def waiting_page(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    ticket = request.app[STORE].active_ticket(patient.id)
    if ticket is None or ticket.state is not State.WAITING:
        target = _next_page(request, patient.id)
        if target != "/paciente/fila":
            raise web.HTTPSeeOther(target)
    context = {
        "first_name": accounts.first_name(patient.full_name),
        "notice": WAITING_NOTICES.get(request.query.get("aviso", ""), ""),
    }
    return aiohttp_jinja2.render_template("patient/waiting.html", request, context)


async def call_page(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    ticket = request.app[STORE].active_ticket(patient.id)
    if ticket is None or ticket.state is State.WAITING:
        raise web.HTTPSeeOther(_next_page(request, patient.id))
    staff = request.app[STORE].staff(ticket.professional_id or 0)
    label: str = _("Profissional de saúde")
    if staff is not None:  # patients know who attends them (name, council, number and UF)
        council = accounts.council_label(staff.council, staff.council_number, staff.council_uf)
        label = f"{staff.name} — {council}" if council else staff.name
    return render_call(request, "patient", "/paciente/avaliacao", label)


async def rating_page(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    if request.app[STORE].ticket_to_rate(patient.id) is None:
        raise web.HTTPSeeOther(_next_page(request, patient.id))
    return aiohttp_jinja2.render_template(
        "patient/rating.html", request, {"values": {}, "errors": {}}
    )


async def rate(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    store = request.app[STORE]
    ticket = store.ticket_to_rate(patient.id)
    if ticket is None:
        raise web.HTTPSeeOther(_next_page(request, patient.id))
    form = await read_form(request)
    if form.get("skip") == "yes":
        store.rate(ticket.id, None, "")
        raise web.HTTPSeeOther("/paciente/obrigado?avaliado=0")
    errors: dict[str, str] = {}
    stars = form.get("rating", "")
    if stars not in {"1", "2", "3", "4", "5"}:
        errors["rating"] = _("Escolha de 1 a 5 estrelas.")
    comment = form.get("comment", "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _(
            "O comentário pode ter no máximo %(max)d caracteres.", max=MAX_COMMENT
        )
    if errors:
        return aiohttp_jinja2.render_template(
            "patient/rating.html", request, {"values": form, "errors": errors}, status=422
        )
    store.rate(ticket.id, int(stars), comment)
    raise web.HTTPSeeOther("/paciente/obrigado")


async def thanks_page(request: web.Request) -> web.Response:
    rated = request.query.get("avaliado") != "0"
    return aiohttp_jinja2.render_template("patient/thanks.html", request, {"rated": rated})
