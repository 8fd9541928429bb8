"""Small helpers shared by the page views."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from web.config import Config
from web.keys import CONFIG


def terms_paragraphs(config: Config) -> list[str]:
    return _paragraphs(config.path(config.terms.file))


@cache
def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def ice_servers_json(config: Config) -> str:
    """The RTCPeerConnection iceServers list handed to browsers."""
    servers = []
    for server in config.ice.servers:
        entry: dict[str, object] = {"urls": server.urls}
        if server.username:
            entry["username"] = server.username
            entry["credential"] = server.credential
        servers.append(entry)
    return json.dumps(servers)


def render_call(
    request: web.Request, role: str, after_call: str, remote_label: str
) -> web.Response:
    """The call page (one template for both sides)."""
    config = request.app[CONFIG]
    context = {
        "role": role,
        "ice_servers": ice_servers_json(config),
        "chat_max": config.chat.max_length,
        "after_call": after_call,
        "remote_label": remote_label,
    }
    return aiohttp_jinja2.render_template("call.html", request, context)
