"""The application factory: state, middlewares, templates and every route in one place."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_remotes import XForwardedStrict
from aiohttp_session import get_session

from relay.config import RelayConfig
from relay.relay import Relay
from web import formats, i18n, metrics, signaling
from web.config import Config
from web.device_tests import DeviceTests
from web.hub import Hub
from web.identity import caller
from web.keys import (
    CONFIG,
    DEVICE_TESTS,
    GUARDS,
    HUB,
    METRICS,
    MONITOR,
    RELAY,
    STORE,
    TURN,
    VISITS,
)
from web.monitor import Monitor
from web.retention import retention
from web.security import csrf_middleware, csrf_token, headers_middleware, sessions, turn_secret
from web.store import Store
from web.text import _
from web.throttle import Guards, Lockout, RateLimit
from web.turn import TurnRest
from web.views import admin, language, patient, privacy, professional
from web.visits import Visits

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def relay_config(config: Config) -> RelayConfig:
    return RelayConfig(
        ice_servers=(),
        host_addresses=tuple(config.relay.host_addresses),
        remote_networks=tuple(config.relay.remote_networks),
        video_codecs=tuple(config.relay.video_codecs),
        audio_codecs=tuple(config.relay.audio_codecs),
        silence_timeout_seconds=config.relay.silence_timeout_seconds,
        max_offer_bytes=config.limits.offer_bytes,
        max_probes=config.device_test.max_running,
        # the test's own timer ends it; this catches one whose page or task went away
        max_probe_seconds=config.device_test.seconds + 15,
    )


def proxied(config: Config) -> list[Any]:
    """With a reverse proxy in front (server.trusted_proxies), take the client's address, scheme
    and host from its X-Forwarded-* headers (aiohttp-remotes), before anything reads them."""
    if not config.server.trusted_proxies:
        return []
    proxies = [ipaddress.ip_network(p, strict=False) for p in config.server.trusted_proxies]
    return [XForwardedStrict([proxies]).middleware]  # one hop: the proxy, then the client


async def _context(request: web.Request) -> dict[str, Any]:
    session = await get_session(request)
    who = await caller(request)
    return {"csrf_token": csrf_token(session), "who": who, **language.page_context(request)}


@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    left = request.query.get("aviso") == "saiu"
    return {"notice": _("Você saiu da fila. Volte quando quiser.") if left else ""}


@web.middleware
async def error_pages(request: web.Request, handler: Any) -> web.StreamResponse:
    """Friendly pages for 403/404/405 and an unexpected error, never a stack trace."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status in (403, 404, 405) and exc.content_type != "text/html":
            # a 403's own text is a message id (marked with _() where it is raised)
            text = _(exc.text) if exc.status == 403 and exc.text else _ERROR_TEXT[exc.status]
            return await _error_page(request, text, exc.status)
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        text = _("Algo deu errado do nosso lado. Tente de novo em instantes.")
        return await _error_page(request, text, 500)


async def _error_page(request: web.Request, text: str, status: int) -> web.Response:
    # A refusal from a middleware (CSRF) comes before the page context is made: make it here.
    context = {} if aiohttp_jinja2.REQUEST_CONTEXT_KEY in request else await _context(request)
    context["message"] = text
    return aiohttp_jinja2.render_template("error.html", request, context, status=status)


_ERROR_TEXT = {
    403: _("Você não tem permissão para esta ação."),
    404: _("Página não encontrada."),
    405: _("Ação não permitida nesta página."),
}


def create_app(config: Config, relay: Relay | None = None) -> web.Application:
    app = web.Application(
        middlewares=[
            *proxied(config),
            headers_middleware,
            sessions(config),
            language.locale_middleware,
            error_pages,
            csrf_middleware,
        ],
        client_max_size=256 * 1024,
    )
    app[CONFIG] = config
    secret = turn_secret(config)
    ice = config.ice
    app[TURN] = TurnRest(tuple(ice.turn_urls), secret, ice.turn_ttl_seconds) if secret else None
    limits = config.limits
    app[GUARDS] = Guards(
        accounts=Lockout(limits.failed_logins, 15 * 60, limits.lockout_seconds),
        addresses=Lockout(limits.failed_logins_per_address, 15 * 60, limits.lockout_seconds),
        registrations=RateLimit(limits.registrations_per_minute, 60),
        chat=RateLimit(limits.chat_messages_per_10s, 10),
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(ROOT / "templates"),
        context_processors=[_context],
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        finalize=i18n.finalize,
    )
    i18n.load()
    i18n.install(env)
    env.filters.update(formats.page_filters(ZoneInfo(config.server.timezone)))
    app[aiohttp_jinja2.static_root_key] = "/static"

    async def resources(app: web.Application) -> AsyncIterator[None]:
        store = Store(config.database_path)
        app[STORE] = store
        app[RELAY] = relay if relay is not None else Relay(relay_config(config))
        app[HUB] = Hub()
        app[VISITS] = Visits(store, app[RELAY], app[HUB], config.queue, config.chat)
        app[MONITOR] = Monitor(app[RELAY], config.metrics.sample_seconds)
        app[DEVICE_TESTS] = DeviceTests(store, app[RELAY], app[HUB], config.device_test.seconds)
        app[METRICS] = metrics.AtendeCollector(store, app[VISITS], app[MONITOR])
        await app[VISITS].resume()
        sampler = asyncio.create_task(app[MONITOR].run())
        yield
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        await app[VISITS].close()
        await app[DEVICE_TESTS].close()
        await app[RELAY].close()
        store.close()

    async def close_sockets(app: web.Application) -> None:
        await app[HUB].close_all()  # open pages reconnect to the next server

    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(retention)  # after the store is open, stopped before it closes
    app.on_shutdown.append(close_sockets)
    _routes(app)
    return app


def _routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", home)
    r.add_post("/idioma", language.set_language)
    r.add_get("/paciente", patient.register_form)
    r.add_post("/paciente/cadastro", patient.register)
    r.add_post("/paciente/sair", patient.logout)
    r.add_get("/paciente/entrar", patient.lookup_form)
    r.add_post("/paciente/entrar", patient.lookup)
    r.add_get("/paciente/teste", patient.device_test_page)
    r.add_post("/paciente/teste", patient.device_test_done)
    r.add_get("/paciente/termos", patient.terms_page)
    r.add_post("/paciente/termos", patient.accept_terms)
    r.add_get("/paciente/fila", patient.waiting_page)
    r.add_get("/paciente/consulta", patient.call_page)
    r.add_get("/paciente/avaliacao", patient.rating_page)
    r.add_post("/paciente/avaliacao", patient.rate)
    r.add_get("/paciente/obrigado", patient.thanks_page)
    r.add_post("/paciente/termos/recusar", privacy.refuse_terms)
    r.add_get("/paciente/recusa", privacy.refused_page)
    r.add_get("/paciente/dados", privacy.data_page)
    r.add_get("/paciente/dados.json", privacy.data_json)
    r.add_post("/paciente/dados/exclusao", privacy.ask_erasure)
    r.add_get("/profissional", professional.dashboard)
    r.add_get("/profissional/cadastro", professional.register_form)
    r.add_post("/profissional/cadastro", professional.register)
    r.add_get("/profissional/entrar", professional.login_form)
    r.add_post("/profissional/entrar", professional.login)
    r.add_post("/profissional/sair", professional.logout)
    r.add_get("/profissional/senha", professional.password_form)
    r.add_post("/profissional/senha", professional.change_password)
    r.add_post("/profissional/atender", professional.take_next)
    r.add_get("/profissional/consulta", professional.call_page)
    r.add_get("/admin", admin.overview_page)
    r.add_get("/admin/painel.json", admin.panel_json)
    r.add_get("/admin/profissionais", admin.professionals_page)
    r.add_post(r"/admin/profissionais/{staff_id:\d{1,9}}/aprovar", admin.approve)
    r.add_post(r"/admin/profissionais/{staff_id:\d{1,9}}/ativo", admin.set_active)
    r.add_post(r"/admin/profissionais/{staff_id:\d{1,9}}/nova-senha", admin.reset_password)
    r.add_get("/admin/atendimentos", admin.visits_page)
    r.add_get("/admin/atendimentos.csv", admin.visits_csv)
    r.add_get("/admin/atendimentos/registros.json", admin.records_json)
    r.add_get("/admin/atendimentos/registros.csv", admin.records_csv)
    r.add_get(r"/admin/atendimentos/{ticket_id:\d{1,9}}", admin.visit_record_page)
    r.add_get(r"/admin/atendimentos/{ticket_id:\d{1,9}}.json", admin.visit_record_json)
    r.add_get(r"/admin/atendimentos/{ticket_id:\d{1,9}}.csv", admin.visit_record_csv)
    r.add_get("/admin/avaliacoes", admin.ratings_page)
    r.add_get("/admin/midia", admin.media_page)
    r.add_get("/admin/privacidade", admin.privacy_page)
    r.add_post(r"/admin/privacidade/{patient_id:\d{1,9}}/apagar", admin.confirm_erasure)
    r.add_get("/admin/auditoria", admin.audit_page)
    r.add_get("/metrics", metrics.metrics_view)
    r.add_get("/ws", signaling.websocket)
    r.add_static("/static", ROOT / "static", append_version=True)
