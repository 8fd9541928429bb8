"""Admin pages: approving professionals."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from web.identity import require_admin
from web.keys import STORE


async def admin_home(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    pending = request.app[STORE].pending_professionals()
    notice = (await get_session(request)).pop("notice", "")
    return aiohttp_jinja2.render_template(
        "admin/home.html", request, {"staff": admin, "pending": pending, "notice": notice}
    )


async def approve(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    try:
        staff_id = int(request.match_info["staff_id"])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
    store = request.app[STORE]
    if store.approve(staff_id):
        staff = store.staff(staff_id)
        name = staff.name if staff else ""
        session = await get_session(request)
        session["notice"] = f"Cadastro de {name} aprovado. O profissional já pode entrar."
    raise web.HTTPSeeOther("/admin")
