"""The management panel (admins): overview, professionals, visits, ratings, media relay."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from web import accounts, reports
from web.hub import staff_key
from web.identity import require_admin
from web.keys import CONFIG, HUB, MONITOR, STORE, VISITS
from web.security import read_form


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].server.timezone)


async def _notice(request: web.Request, text: str) -> None:
    (await get_session(request))["notice"] = text


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
    return await _render(request, "admin/overview.html", {"pending": pending})


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
        await _notice(request, f"Cadastro de {name} aprovado. O profissional já pode entrar.")
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
        await _notice(request, "Você não pode desativar o seu próprio acesso.")
    elif store.set_status(staff_id, "approved" if active else "inactive"):
        if not active:
            store.end_sessions("staff", staff_id)
            await request.app[HUB].close(staff_key(staff_id))
        verb = "reativado" if active else "desativado"
        await _notice(request, f"Acesso de {staff.name} {verb}.")
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
        f"Nova senha de {staff.name}: {password} — entregue-a ao profissional; "
        "ela não será mostrada de novo.",
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
        raise web.HTTPBadRequest(text="Datas inválidas: use AAAA-MM-DD.") from exc
    pro = request.query.get("profissional", "")
    return min(start, end), max(start, end), int(pro) if pro.isdigit() and len(pro) < 10 else None


def _visit_rows(request: web.Request) -> tuple[date, date, int | None, list[reports.VisitRow]]:
    start, end, pro = _filters(request)
    tz = _tz(request)
    rows = reports.visits(
        request.app[STORE], reports.day_bounds(start, tz)[0], reports.day_bounds(end, tz)[1], pro
    )
    return start, end, pro, rows


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
