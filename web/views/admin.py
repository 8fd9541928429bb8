"""Admin pages: approving professionals."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from web.identity import require_admin
from web.keys import STORE


async def admin_home(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    pending = request.app[STORE].pending_professionals()
    return aiohttp_jinja2.render_template(
        "admin/home.html", request, {"staff": admin, "pending": pending}
    )


async def approve(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    try:
        staff_id = int(request.match_info["staff_id"])
    except ValueError as exc:
        raise web.HTTPNotFound() from exc
    request.app[STORE].approve(staff_id)
    raise web.HTTPSeeOther("/admin")
