"""The WebSocket endpoint: queue and call events, SDP exchange. Catalogue: docs/protocol.md."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from relay.errors import OfferError
from web.hub import SOCKET_LOCALE, SOCKET_SIGN_IN, patient_key, send_json, staff_key
from web.identity import caller, sign_in_id
from web.keys import CONFIG, DEVICE_TESTS, GUARDS, HUB, STORE, VISITS
from web.queue import REMOVAL_REASONS, State
from web.security import origin_allowed
from web.text import _
from web.views.language import request_locale
from web.visits import Side

log = logging.getLogger(__name__)

MAX_INT = 2**31 - 1  # ids in messages; larger ones cannot name anything

# Message type -> required fields and their types, per role.
PATIENT_MESSAGES: dict[str, dict[str, type]] = {
    "offer": {"sdp": str},
    "probe_offer": {"sdp": str},
    "hangup": {},
    "leave": {},
    "chat": {"text": str},
    "media_state": {"camera": bool, "mic": bool},
}
PROFESSIONAL_MESSAGES: dict[str, dict[str, type]] = {
    "offer": {"sdp": str},
    "hangup": {},
    "chat": {"text": str},
    "media_state": {"camera": bool, "mic": bool},
    "availability": {"available": bool},
    "remove": {"ticket": int, "reason": str},
}

OFFER_ERRORS = {
    "no_common_codec": _(
        "Seu navegador não oferece um formato de vídeo ou áudio que o serviço aceite. "
        "Tente com o Chrome, o Firefox ou o Safari atualizados."
    ),
    "no_media": _("Não foi possível usar câmera nem microfone nesta conexão."),
    "busy": _("Muitos testes em andamento agora. Tente de novo em alguns instantes."),
}
OFFER_ERROR_DEFAULT = _("Não foi possível iniciar a conexão de vídeo. Recarregue a página.")
NOT_IN_CALL = _("Não há atendimento em andamento.")


class MessageError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_message(raw: str, allowed: dict[str, dict[str, type]], max_bytes: int) -> dict[str, Any]:
    """Validate one client message against the role's catalogue."""
    if len(raw.encode()) > max_bytes:
        raise MessageError("too_large", _("Mensagem grande demais."))
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise MessageError("invalid_json", _("Mensagem inválida (não é JSON).")) from exc
    if not isinstance(message, dict):
        raise MessageError("invalid_message", _("Mensagem inválida."))
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        raise MessageError("unknown_type", _("Tipo de mensagem desconhecido ou não permitido."))
    for name, expected in allowed[kind].items():
        value = message.get(name)
        out_of_range = isinstance(value, bool) or (
            isinstance(value, int) and not 0 <= value <= MAX_INT
        )
        if not isinstance(value, expected) or (expected is int and out_of_range):
            raise MessageError(
                "invalid_field", _("Campo '%(name)s' ausente ou inválido.", name=name)
            )
    return message


@dataclass
class Connection:
    """One open page: whose it is and its socket."""

    ws: web.WebSocketResponse
    key: str
    side: Side
    subject_id: int  # patient id or staff id


async def websocket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        raise web.HTTPForbidden(text=_("Origem não permitida."))
    who = await caller(request)
    side: Side
    role = request.query.get("role")
    if role == "patient" and who.patient is not None:
        side, subject_id, key = "patient", who.patient.id, patient_key(who.patient.id)
    elif role == "professional" and who.professional is not None:
        side, subject_id, key = "professional", who.professional.id, staff_key(who.professional.id)
    else:
        raise web.HTTPUnauthorized(text=_("Entre novamente."))

    # Frames up to twice the limit are read, so that an oversized message gets a clear
    # "too_large" error instead of a closed socket.
    limit = request.app[CONFIG].limits.message_bytes
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=2 * limit)
    ws[SOCKET_LOCALE] = request_locale(request)  # texts sent to this page: in its language
    ws[SOCKET_SIGN_IN] = await sign_in_id(request)
    await ws.prepare(request)
    hub = request.app[HUB]
    for old in hub.add(key, ws):
        await send_json(old, {"type": "replaced"})
        await old.close(code=4000, message=b"replaced")
    conn = Connection(ws=ws, key=key, side=side, subject_id=subject_id)
    visits = request.app[VISITS]
    visits.page_opened(side, subject_id)
    try:
        await _greet(request.app, conn)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    await _dispatch(request.app, conn, msg.data)
                except Exception:  # a bug of ours must not take the page's socket down
                    log.exception("signaling: unexpected error handling a %s message", side)
                    error = _error("internal", _("Algo deu errado do nosso lado. Tente de novo."))
                    await send_json(ws, error)
            elif msg.type == WSMsgType.BINARY:
                error = _error("invalid_message", _("Mensagens binárias não são aceitas."))
                await send_json(ws, error)
    finally:
        hub.remove(key, ws)
        if side == "patient" and not hub.connected(key):
            await request.app[DEVICE_TESTS].stop(subject_id)
        await visits.page_closed(side, subject_id)
    return ws


def _error(code: str, message: str) -> dict[str, str]:
    return {"type": "error", "code": code, "message": message}


async def _greet(app: web.Application, conn: Connection) -> None:
    store, visits = app[STORE], app[VISITS]
    if conn.side == "patient":
        ticket = store.active_ticket(conn.subject_id)
        state = ticket.state.value if ticket else "none"
        await send_json(conn.ws, {"type": "hello", "role": "patient", "state": state})
        if ticket is not None and ticket.state is State.WAITING:
            await visits.send_place(conn.subject_id)
    else:
        staff = store.staff(conn.subject_id)
        ticket = store.current_call(conn.subject_id)
        state = ticket.state.value if ticket else "none"
        hello = {"type": "hello", "role": "professional", "state": state}
        await send_json(conn.ws, hello | {"available": bool(staff and staff.available)})
        await visits.push_queue()  # professionals online changed: estimates too
    if ticket is not None and ticket.state in (State.CALLED, State.IN_CALL):
        history = visits.chat_history(ticket.id)
        if history:
            await send_json(conn.ws, {"type": "chat_history", "messages": history})
        other: Side = "professional" if conn.side == "patient" else "patient"
        media = visits.media_state_message(ticket.id, other)
        if media is not None:
            await send_json(conn.ws, media)


async def _offer_rejected(conn: Connection, exc: OfferError, whose: str) -> None:
    log.info("%s: offer rejected: %s", whose, exc.code)
    text = OFFER_ERRORS.get(exc.code, OFFER_ERROR_DEFAULT)
    await send_json(conn.ws, _error("offer_rejected", text) | {"reason": exc.code})


async def _dispatch(app: web.Application, conn: Connection, raw: str) -> None:
    allowed = PATIENT_MESSAGES if conn.side == "patient" else PROFESSIONAL_MESSAGES
    try:
        message = parse_message(raw, allowed, app[CONFIG].limits.message_bytes)
    except MessageError as exc:
        await send_json(conn.ws, _error(exc.code, exc.message))
        return
    store, visits = app[STORE], app[VISITS]
    if conn.side == "patient":
        ticket = store.active_ticket(conn.subject_id)
    else:
        staff = store.staff(conn.subject_id)
        if staff is None or staff.status != "approved":  # deactivated since the page opened
            await send_json(conn.ws, _error("forbidden", _("Seu acesso foi desativado.")))
            await conn.ws.close()
            return
        ticket = store.current_call(conn.subject_id)
    kind = message["type"]

    if kind == "probe_offer":
        if ticket is not None and ticket.state is not State.WAITING:
            await send_json(
                conn.ws, _error("not_now", _("O teste não pode ser feito durante a consulta."))
            )
            return
        try:
            answer = await app[DEVICE_TESTS].start(conn.subject_id, message["sdp"])
        except OfferError as exc:
            await _offer_rejected(conn, exc, f"patient {conn.subject_id} device test")
            return
        await send_json(conn.ws, {"type": "probe_answer", "sdp": answer})
    elif kind == "offer":
        if ticket is None or ticket.state not in (State.CALLED, State.IN_CALL):
            await send_json(conn.ws, _error("not_in_call", NOT_IN_CALL))
            return
        try:
            answer = await visits.answer(ticket, conn.side, message["sdp"])
        except OfferError as exc:
            await _offer_rejected(conn, exc, f"ticket {ticket.id} {conn.side}")
            return
        await send_json(conn.ws, {"type": "answer", "sdp": answer})
    elif kind == "hangup":
        if ticket is None or ticket.state not in (State.CALLED, State.IN_CALL):
            await send_json(conn.ws, _error("not_in_call", NOT_IN_CALL))
            return
        await visits.hang_up(ticket, conn.side)
    elif kind == "leave":
        if ticket is None or ticket.state is not State.WAITING:
            await send_json(conn.ws, _error("not_waiting", _("Você não está na fila.")))
            return
        await visits.leave(ticket, "patient_left")
        await send_json(conn.ws, {"type": "left"})
    elif kind == "chat":
        text = message["text"].strip()
        limit = app[CONFIG].chat.max_length
        if ticket is None or ticket.state not in (State.CALLED, State.IN_CALL):
            await send_json(conn.ws, _error("not_in_call", NOT_IN_CALL))
        elif not text or len(text) > limit:
            await send_json(
                conn.ws,
                _error(
                    "invalid_field",
                    _("A mensagem deve ter de 1 a %(limit)d caracteres.", limit=limit),
                ),
            )
        elif not app[GUARDS].chat.allow(conn.key):
            await send_json(
                conn.ws,
                _error("too_fast", _("Muitas mensagens seguidas. Aguarde alguns segundos.")),
            )
        else:
            await visits.chat(ticket, conn.side, text)
    elif kind == "media_state":
        if ticket is None or ticket.state not in (State.CALLED, State.IN_CALL):
            await send_json(conn.ws, _error("not_in_call", NOT_IN_CALL))
            return
        await visits.media_state(ticket, conn.side, message["camera"], message["mic"])
    elif kind == "availability":
        staff = store.staff(conn.subject_id)
        if staff is not None:
            await visits.set_available(staff, message["available"])
    elif kind == "remove":
        staff = store.staff(conn.subject_id)
        if message["reason"] not in REMOVAL_REASONS:
            await send_json(conn.ws, _error("invalid_field", _("Motivo de remoção desconhecido.")))
        elif staff is None or not await visits.remove(message["ticket"], message["reason"], staff):
            await send_json(
                conn.ws, _error("not_removed", _("Este paciente não está mais aguardando na fila."))
            )
