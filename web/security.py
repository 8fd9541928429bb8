"""Session cookies, CSRF tokens, Origin checks and security headers."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp_session import Session, get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from web.config import Config, ConfigError
from web.text import _

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_COOKIE = "atende_session"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def session_secret(config: Config) -> bytes:
    """The Fernet key for session cookies: from the environment, or a file made at first start."""
    from_env = os.environ.get(config.session.secret_env, "") if config.session.secret_env else ""
    if from_env:
        key = from_env.encode()
        source = config.session.secret_env
    else:
        path = config.path(config.session.secret_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(new_secret().encode())
        key = Path(path).read_bytes().strip()
        source = "session.secret_file"
    try:
        if len(base64.urlsafe_b64decode(key)) != 32:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(f"{source}: not a 32-byte url-safe base64 key") from exc
    return key


def turn_secret(config: Config) -> bytes | None:
    """coturn's static-auth-secret, from the environment or a file; None without TURN servers."""
    ice = config.ice
    if not ice.turn_urls:
        return None
    from_env = os.environ.get(ice.turn_secret_env, "") if ice.turn_secret_env else ""
    if from_env:
        secret, source = from_env.strip(), f"ice.turn_secret_env ({ice.turn_secret_env})"
    elif ice.turn_secret_file:
        source = "ice.turn_secret_file"
        try:
            secret = config.path(ice.turn_secret_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read {ice.turn_secret_file}: {exc}") from exc
    else:
        raise ConfigError(
            f"ice.turn_secret_env: ice.turn_urls needs the TURN secret: the environment variable"
            f" {ice.turn_secret_env or '(none named)'} is empty and ice.turn_secret_file is not set"
        )
    if len(secret) < 16:
        raise ConfigError(f"{source}: the TURN secret must be at least 16 characters")
    return secret.encode()


def new_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def sessions(config: Config) -> Callable[..., Awaitable[web.StreamResponse]]:
    storage = EncryptedCookieStorage(
        Fernet(session_secret(config)),
        cookie_name=SESSION_COOKIE,
        max_age=config.session.max_age_hours * 3600,
        secure=config.session.cookie_secure or config.tls,  # https served here: always Secure
        httponly=True,
        samesite="Lax",
    )
    return session_middleware(storage)


def csrf_token(session: Session) -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def read_form(request: web.Request) -> dict[str, str]:
    """The posted form as plain strings; a body that cannot be read is a 400, never a 500."""
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError, LookupError, AssertionError) as exc:
        raise web.HTTPBadRequest(text=_("Formulário inválido.")) from exc
    return {k: v for k, v in form.items() if isinstance(v, str)}


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request carries the session's CSRF token."""
    unmatched = request.match_info.http_exception is not None  # 404/405 come first
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and not unmatched:
        session = await get_session(request)
        expected = session.get("csrf")
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sent = (await read_form(request)).get(CSRF_FIELD)
        if not (isinstance(expected, str) and sent and hmac.compare_digest(expected, sent)):
            raise web.HTTPForbidden(
                text=_("A página expirou. Volte, recarregue a página e tente de novo."),
            )
    return await handler(request)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _set_headers(request, response)
        raise
    _set_headers(request, response)
    return response


def _set_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:  # WebSocket responses are already sent
        return
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")


def origin_allowed(request: web.Request) -> bool:
    """A WebSocket upgrade must come from a page of this very site."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    return origin in (f"http://{request.host}", f"https://{request.host}")
