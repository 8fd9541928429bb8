"""Open WebSockets by person, so the server can push to every page a person has open."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from web import i18n

log = logging.getLogger(__name__)

# The language of the page behind a socket (set when it opens); texts sent to it are translated.
SOCKET_LOCALE: web.ResponseKey[str] = web.ResponseKey("locale", str)
# The sign-in (web.identity.sign_in_id) the page behind a socket was opened with.
SOCKET_SIGN_IN: web.ResponseKey[str] = web.ResponseKey("sign_in", str)


def patient_key(patient_id: int) -> str:
    return f"patient:{patient_id}"


def staff_key(staff_id: int) -> str:
    return f"staff:{staff_id}"


class Hub:
    """Keys are "patient:<id>" or "staff:<id>"; a key may have several sockets."""

    def __init__(self) -> None:
        self._sockets: dict[str, list[web.WebSocketResponse]] = {}

    def add(self, key: str, ws: web.WebSocketResponse) -> list[web.WebSocketResponse]:
        """Register a socket; returns the sockets it replaces for a patient (one page at a
        time: the newest tab wins, the older ones are told)."""
        replaced: list[web.WebSocketResponse] = []
        sockets = self._sockets.setdefault(key, [])
        if key.startswith("patient:"):
            replaced, sockets[:] = list(sockets), []
        sockets.append(ws)
        return replaced

    def remove(self, key: str, ws: web.WebSocketResponse) -> None:
        sockets = self._sockets.get(key, [])
        if ws in sockets:
            sockets.remove(ws)
        if not sockets:
            self._sockets.pop(key, None)

    def connected(self, key: str) -> bool:
        return bool(self._sockets.get(key))

    def keys(self, prefix: str) -> list[str]:
        return [k for k in self._sockets if k.startswith(prefix)]

    async def send(self, key: str, message: Mapping[str, Any]) -> None:
        for ws in list(self._sockets.get(key, [])):
            await send_json(ws, message)

    async def broadcast(self, keys: Iterable[str], message: Mapping[str, Any]) -> None:
        """Send one message to every page of these people, translated and encoded once per
        language (the professionals' waiting list can hold thousands of entries)."""
        encoded: dict[str, str] = {}
        for key in keys:
            for ws in list(self._sockets.get(key, [])):
                locale = ws.get(SOCKET_LOCALE, i18n.DEFAULT)
                if locale not in encoded:
                    encoded[locale] = json.dumps(i18n.localize(message, locale))
                await send_text(ws, encoded[locale])

    async def close(self, key: str, keep_sign_in: str = "") -> None:
        """Close every page of this person (they signed out), except those opened with the
        sign-in keep_sign_in (this browser, when one signs out everywhere else)."""
        sockets = self._sockets.pop(key, [])
        kept = [ws for ws in sockets if keep_sign_in and ws.get(SOCKET_SIGN_IN) == keep_sign_in]
        if kept:
            self._sockets[key] = kept
        for ws in sockets:
            if ws not in kept:
                await ws.close(code=4001, message=b"signed out")

    async def close_all(self) -> None:
        for sockets in list(self._sockets.values()):
            for ws in list(sockets):
                await ws.close(code=1001, message=b"server shutdown")
        self._sockets.clear()


async def send_json(ws: web.WebSocketResponse, message: Mapping[str, Any]) -> None:
    """Send, in the socket's language, ignoring a socket that is already closing (its page
    will reconnect)."""
    await send_text(ws, json.dumps(i18n.localize(message, ws.get(SOCKET_LOCALE, i18n.DEFAULT))))


async def send_text(ws: web.WebSocketResponse, text: str) -> None:
    """Send text already encoded, ignoring a socket that is already closing."""
    if ws.closed:
        return
    try:
        await ws.send_str(text)
    except (ConnectionError, RuntimeError) as exc:
        log.debug("dropping message to a closing socket: %s", exc)
