"""Small helpers shared by the page views."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from web.config import Config


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
