"""Patient privacy pages: refusing the terms, their own data (download) and asking for erasure."""

from __future__ import annotations

import json
import logging
from functools import partial
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from web import accounts, privacy
from web.hub import patient_key
from web.identity import require_patient, sign_out
from web.keys import CONFIG, DEVICE_TESTS, HUB, STORE
from web.security import read_form
from web.store import Patient
from web.text import _

log = logging.getLogger(__name__)


async def refuse_terms(request: web.Request) -> web.StreamResponse:
    """The patient does not accept the terms: nothing of this attempt is kept (a new registration
    is deleted whole, see privacy.forget_refusal), they are signed out and told where to find
    in-person care."""
    patient = await require_patient(request)
    store = request.app[STORE]
    if store.active_ticket(patient.id) is not None:  # already in a visit: the terms page says where
        raise web.HTTPSeeOther("/paciente/termos")
    await request.app[DEVICE_TESTS].stop(patient.id)
    deleted = privacy.forget_refusal(store, patient.id)
    await privacy.wipe_free_space(store)
    log.info("patient %d: refused the terms%s", patient.id, "; deleted" if deleted else "")
    await sign_out(request, "patient")
    await request.app[HUB].close(patient_key(patient.id))
    raise web.HTTPSeeOther("/paciente/recusa" + ("?apagado=1" if deleted else ""))


async def refused_page(request: web.Request) -> web.Response:
    """Where to find in-person care (Lei 14.510/2022); public, with nobody's data."""
    context = {"deleted": request.query.get("apagado") == "1"}
    return aiohttp_jinja2.render_template("patient/refused.html", request, context)


def _render_data(
    request: web.Request, patient: Patient, error: str = "", status: int = 200
) -> web.Response:
    context = {
        "patient": patient,
        "cpf": accounts.format_cpf(patient.cpf),
        "counts": privacy.counts(request.app[STORE], patient.id),
        "retention_days": request.app[CONFIG].privacy.retention_days,
        "error": error,
    }
    return aiohttp_jinja2.render_template("patient/data.html", request, context, status=status)


async def data_page(request: web.Request) -> web.Response:
    return _render_data(request, await require_patient(request))


async def data_json(request: web.Request) -> web.Response:
    """The patient's own data as a JSON file (registration, consents, visits with their ratings
    and chat messages if kept, device tests)."""
    patient = await require_patient(request)
    tz = ZoneInfo(request.app[CONFIG].server.timezone)
    data = privacy.patient_data(request.app[STORE], patient.id, tz)
    return web.json_response(
        data,
        dumps=partial(json.dumps, ensure_ascii=False, indent=2),
        headers={"Content-Disposition": 'attachment; filename="meus-dados-atende.json"'},
    )


async def ask_erasure(request: web.Request) -> web.StreamResponse:
    patient = await require_patient(request)
    if (await read_form(request)).get("confirm") != "yes":
        error = _("Para pedir a exclusão, marque que você entendeu o que será apagado.")
        return _render_data(request, patient, error, 422)
    privacy.request_erasure(request.app[STORE], patient.id)
    log.info("patient %d: asked for erasure", patient.id)
    raise web.HTTPSeeOther("/paciente/dados")
