"""The management panel (admins): overview, professionals, visits and their records, ratings,
media relay, privacy (erasure requests) and the audit log."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import asdict
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from web import accounts, audit, device_check, privacy, reports
from web.hub import patient_key, staff_key
from web.identity import require_admin
from web.keys import CONFIG, DEVICE_TESTS, HUB, MONITOR, STORE, VISITS
from web.security import read_form
from web.text import _
from web.views.language import translated

log = logging.getLogger(__name__)


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].server.timezone)


async def _notice(request: web.Request, text: str) -> None:
    (await get_session(request))["notice"] = translated(request, text)  # the session is JSON


async def _render(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    admin = await require_admin(request)
    notice = (await get_session(request)).pop("notice", "")
    context = {"staff": admin, "notice": notice, "section": template.split("/")[-1]} | context
    return aiohttp_jinja2.render_template(template, request, context)


def _staff_id(request: web.Request) -> int:
    return int(request.match_info["staff_id"])  # the route only matches 1-9 digits


# -- overview -------------------------------------------------------------------------


async def overview_page(request: web.Request) -> web.Response:
    await require_admin(request)
    pending = request.app[STORE].pending_professionals()
    # the panel's "updated at" is in the clinic's time zone, like its charts
    context = {"pending": pending, "timezone": request.app[CONFIG].server.timezone}
    return await _render(request, "admin/overview.html", context)


def panel_data(request: web.Request) -> dict[str, Any]:
    """Everything the overview shows, as JSON for its live updates."""
    tz = _tz(request)
    now = time.time()
    day_start, day_end = reports.day_bounds(datetime.now(tz).date(), tz)
    store = request.app[STORE]
    online, available = request.app[VISITS].professionals_online()
    snapshot = request.app[MONITOR].latest
    return {
        "overview": asdict(reports.overview(store, day_start, day_end, now)),
        "professionals": {"online": online, "available": available, "paused": online - available},
        "hourly": reports.hourly(store, day_start, now),
        "relay": asdict(snapshot) if snapshot is not None else None,
    }


async def panel_json(request: web.Request) -> web.Response:
    await require_admin(request)
    return web.json_response(panel_data(request))


# -- professionals --------------------------------------------------------------------


async def professionals_page(request: web.Request) -> web.Response:
    await require_admin(request)
    rows = reports.professionals(request.app[STORE])
    return await _render(request, "admin/professionals.html", {"rows": rows})


async def approve(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    store = request.app[STORE]
    staff_id = _staff_id(request)
    if store.approve(staff_id):
        staff = store.staff(staff_id)
        name = staff.name if staff else ""
        text = _("Cadastro de %(name)s aprovado. O profissional já pode entrar.", name=name)
        await _notice(request, text)
    back = (await read_form(request)).get("next")
    raise web.HTTPSeeOther(back if back in ("/admin", "/admin/profissionais") else "/admin")


async def set_active(request: web.Request) -> web.StreamResponse:
    admin = await require_admin(request)
    staff_id = _staff_id(request)
    active = (await read_form(request)).get("active") == "yes"
    store = request.app[STORE]
    staff = store.staff(staff_id)
    if staff is None:
        raise web.HTTPNotFound()
    if staff_id == admin.id:
        await _notice(request, _("Você não pode desativar o seu próprio acesso."))
    elif store.set_status(staff_id, "approved" if active else "inactive"):
        if not active:
            store.end_sessions("staff", staff_id)
            await request.app[HUB].close(staff_key(staff_id))
        if active:
            await _notice(request, _("Acesso de %(name)s reativado.", name=staff.name))
        else:
            await _notice(request, _("Acesso de %(name)s desativado.", name=staff.name))
    raise web.HTTPSeeOther("/admin/profissionais")


async def reset_password(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    staff_id = _staff_id(request)
    store = request.app[STORE]
    staff = store.staff(staff_id)
    if staff is None:
        raise web.HTTPNotFound()
    password = secrets.token_urlsafe(12)
    store.set_password(staff_id, await asyncio.to_thread(accounts.hash_password, password))
    await request.app[HUB].close(staff_key(staff_id))
    await _notice(
        request,
        _(
            "Nova senha de %(name)s: %(password)s — entregue-a ao profissional; "
            "ela não será mostrada de novo.",
            name=staff.name,
            password=password,
        ),
    )
    raise web.HTTPSeeOther("/admin/profissionais")


# -- visits, ratings, media -------------------------------------------------------------


def _filters(request: web.Request) -> tuple[date, date, int | None]:
    tz = _tz(request)
    today = datetime.now(tz).date()
    try:
        start = (
            date.fromisoformat(request.query.get("de", "")) if request.query.get("de") else today
        )
        end = (
            date.fromisoformat(request.query.get("ate", "")) if request.query.get("ate") else today
        )
    except ValueError as exc:
        raise web.HTTPBadRequest(text=_("Datas inválidas: use AAAA-MM-DD.")) from exc
    pro = request.query.get("profissional", "")
    return min(start, end), max(start, end), int(pro) if pro.isdigit() and len(pro) < 10 else None


def _visit_filter(request: web.Request) -> tuple[date, date, reports.VisitFilter]:
    """The visits page's filters (dates in the clinic's time zone, professional)."""
    start, end, pro = _filters(request)
    tz = _tz(request)
    which = reports.VisitFilter(
        reports.day_bounds(start, tz)[0], reports.day_bounds(end, tz)[1], professional_id=pro
    )
    return start, end, which


def _visit_rows(request: web.Request) -> tuple[date, date, int | None, list[reports.VisitRow]]:
    start, end, which = _visit_filter(request)
    return start, end, which.professional_id, reports.visits(request.app[STORE], which)


async def visits_page(request: web.Request) -> web.Response:
    await require_admin(request)
    start, end, pro, rows = _visit_rows(request)
    context = {
        "rows": rows,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "professional_id": pro,
        "professionals": reports.professionals(request.app[STORE]),
        "query": request.query_string,
        "tz": _tz(request),
    }
    return await _render(request, "admin/visits.html", context)


async def visits_csv(request: web.Request) -> web.Response:
    await require_admin(request)
    start, end, _, rows = _visit_rows(request)
    return web.Response(
        text=reports.visits_csv(rows, _tz(request)),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="atendimentos-{start}-a-{end}.csv"'},
    )


async def ratings_page(request: web.Request) -> web.Response:
    await require_admin(request)
    store = request.app[STORE]
    distribution = reports.rating_distribution(store)
    context = {
        "distribution": distribution,
        "total": sum(distribution.values()),
        "comments": reports.latest_comments(store),
        "tz": _tz(request),
    }
    return await _render(request, "admin/ratings.html", context)


async def media_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _render(request, "admin/media.html", {"snapshot": request.app[MONITOR].latest})


# -- visit records (filed by the clinic) -------------------------------------------------------


def _records_response(
    request: web.Request, records: list[reports.VisitRecord], fmt: str, name: str, one: bool
) -> web.Response:
    """Visit records as a CSV or JSON file (one object for one visit, else a list)."""
    tz = _tz(request)
    columns = reports.RECORD_COLUMNS
    disposition = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        text = reports.rows_csv(records, columns, tz)
        return web.Response(text=text, content_type="text/csv", headers=disposition)
    rows = [reports.as_dict(record, columns, tz) for record in records]
    return web.json_response(
        rows[0] if one else rows,
        dumps=partial(json.dumps, ensure_ascii=False, indent=2),
        headers=disposition,
    )


def _record(request: web.Request) -> reports.VisitRecord:
    ticket_id = int(request.match_info["ticket_id"])  # the route only matches 1-9 digits
    found = reports.visit_records(request.app[STORE], reports.VisitFilter(ticket_id=ticket_id))
    if not found:
        raise web.HTTPNotFound()
    return found[0]


async def visit_record_page(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    record = _record(request)
    detail = f"ticket={record.ticket}"
    audit.record(request.app[STORE], admin, "visit_record", [record.patient_id], detail)
    context = {
        "record": record,
        "device_summary": device_check.summary_text(record.device_summary),  # translated
        "section": "visits.html",  # under the visits tab
    }
    return await _render(request, "admin/visit_record.html", context)


async def _visit_record_export(request: web.Request, fmt: str) -> web.Response:
    admin = await require_admin(request)
    record = _record(request)
    detail = f"ticket={record.ticket} format={fmt}"
    audit.record(request.app[STORE], admin, "visit_export", [record.patient_id], detail)
    return _records_response(request, [record], fmt, f"atendimento-{record.ticket}", one=True)


async def visit_record_json(request: web.Request) -> web.Response:
    return await _visit_record_export(request, "json")


async def visit_record_csv(request: web.Request) -> web.Response:
    return await _visit_record_export(request, "csv")


async def _records_export(request: web.Request, fmt: str) -> web.Response:
    """Every record the visits page shows with the same filters (de, ate, profissional)."""
    admin = await require_admin(request)
    start, end, which = _visit_filter(request)
    records = reports.visit_records(request.app[STORE], which)
    detail = f"from={start} to={end} professional={which.professional_id or ''} format={fmt}"
    patients = [record.patient_id for record in records]
    audit.record(request.app[STORE], admin, "visits_export", patients, detail)
    return _records_response(request, records, fmt, f"registros-{start}-a-{end}", one=False)


async def records_json(request: web.Request) -> web.Response:
    return await _records_export(request, "json")


async def records_csv(request: web.Request) -> web.Response:
    return await _records_export(request, "csv")


# -- privacy: erasure requests and the audit log ------------------------------------------------


async def privacy_page(request: web.Request) -> web.Response:
    await require_admin(request)
    context = {
        "requests": privacy.erasure_requests(request.app[STORE]),
        "retention_days": request.app[CONFIG].privacy.retention_days,
    }
    return await _render(request, "admin/privacy.html", context)


async def confirm_erasure(request: web.Request) -> web.StreamResponse:
    """An admin confirms a patient's erasure request (privacy.erase says what goes and stays)."""
    admin = await require_admin(request)
    patient_id = int(request.match_info["patient_id"])  # the route only matches 1-9 digits
    store = request.app[STORE]
    if not any(r.patient_id == patient_id for r in privacy.erasure_requests(store)):
        raise web.HTTPNotFound()  # no erasure request waits for this patient
    if (await read_form(request)).get("confirm") != "yes":
        await _notice(request, _("Marque a confirmação para apagar os dados do paciente."))
        raise web.HTTPSeeOther("/admin/privacidade")
    try:
        privacy.erase(store, patient_id)
    except privacy.PatientBusy:
        await _notice(
            request,
            _(
                "O paciente está na fila ou em atendimento agora. Confirme a exclusão quando o"
                " atendimento terminar."
            ),
        )
        raise web.HTTPSeeOther("/admin/privacidade") from None
    await privacy.wipe_free_space(store)
    audit.record(store, admin, "erasure", [patient_id])
    await request.app[DEVICE_TESTS].stop(patient_id)
    await request.app[HUB].close(patient_key(patient_id))
    log.info("patient %d: erased by admin %d", patient_id, admin.id)
    text = _("Os dados pessoais do paciente nº %(id)d foram apagados.", id=patient_id)
    await _notice(request, text)
    raise web.HTTPSeeOther("/admin/privacidade")


def _audit_filter(request: web.Request) -> tuple[date, date, audit.AuditFilter]:
    start, end, staff_id = _filters(request)
    tz = _tz(request)
    patient = request.query.get("paciente", "")
    action = request.query.get("acao", "")
    which = audit.AuditFilter(
        reports.day_bounds(start, tz)[0],
        reports.day_bounds(end, tz)[1],
        staff_id=staff_id,
        patient_id=int(patient) if patient.isdigit() and len(patient) < 10 else None,
        action=action if action in audit.ACTIONS else None,
    )
    return start, end, which


async def audit_page(request: web.Request) -> web.Response:
    await require_admin(request)
    start, end, which = _audit_filter(request)
    context = {
        "entries": audit.entries(request.app[STORE], which),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "which": which,
        "staff": reports.professionals(request.app[STORE]),
        "actions": audit.ACTIONS,
    }
    return await _render(request, "admin/audit.html", context)
