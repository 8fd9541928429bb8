"""Small helpers shared by the page views."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from web.config import Config
from web.keys import CONFIG, TURN
from web.turn import TurnRest


def terms_paragraphs(config: Config, locale: str = "pt_BR") -> list[str]:
    """The terms of use, in the page's language where a translation sits beside the file
    (termos-de-uso-v1.en.txt for termos-de-uso-v1.txt), else as written."""
    path = config.path(config.terms.file)
    translated = path.with_suffix(f".{locale}{path.suffix}")
    return _paragraphs(translated if translated.is_file() else path)


@cache
def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def ice_context(request: web.Request) -> dict[str, str]:
    """What a page needs for `new RTCPeerConnection({iceServers, iceTransportPolicy})`."""
    config = request.app[CONFIG]
    return {
        "ice_servers": ice_servers_json(config, request.app[TURN]),
        "ice_transport_policy": config.ice.transport_policy,
    }


def ice_servers_json(config: Config, turn: TurnRest | None) -> str:
    """The iceServers list: the fixed servers, then TURN with this page's own fresh credentials."""
    servers: list[dict[str, object]] = []
    for server in config.ice.servers:
        entry: dict[str, object] = {"urls": server.urls}
        if server.username:
            entry["username"] = server.username
            entry["credential"] = server.credential
        servers.append(entry)
    if turn is not None:
        servers.append(turn.ice_server(time.time()))
    return json.dumps(servers)


def render_call(
    request: web.Request, role: str, after_call: str, remote_label: str
) -> web.Response:
    """The call page (one template for both sides)."""
    config = request.app[CONFIG]
    context = {
        "role": role,
        **ice_context(request),
        "chat_max": config.chat.max_length,
        "after_call": after_call,
        "remote_label": remote_label,
        "in_call": True,  # no links away from the call in the page's header
    }
    return aiohttp_jinja2.render_template("call.html", request, context)
