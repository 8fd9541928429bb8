"""The visitor's language on every request, and the language switch every page shows.

The choice lives in its own cookie (not in the session): it holds nothing personal, works for
anonymous visitors, and survives signing in and out (which start a new session). Without the
cookie the browser's Accept-Language picks the language; Brazilian Portuguese is the default.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from yarl import URL

from web import i18n
from web.keys import CONFIG
from web.security import Handler, read_form

COOKIE = "atende_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
LOCALE: web.RequestKey[str] = web.RequestKey("locale", str)


def request_locale(request: web.Request) -> str:
    """This request's language code ("pt_BR", "en")."""
    code = request.get(LOCALE)
    if code is None:
        code = i18n.choose(request.cookies.get(COOKIE), request.headers.get("Accept-Language"))
        request[LOCALE] = code
    return code


def translated(request: web.Request, text: str) -> str:
    """A text translated now, where it must become a plain string (the session is JSON)."""
    return i18n.render(text, request_locale(request))


@web.middleware
async def locale_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages say their language (Content-Language; Vary, as it depends on these headers)."""
    if request.path.startswith("/static/"):  # the same for every language
        return await handler(request)
    code = request_locale(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _content_language(exc, code)
        raise
    _content_language(response, code)
    return response


def _content_language(response: web.StreamResponse, code: str) -> None:
    if not response.prepared:  # a WebSocket is already under way
        response.headers.setdefault("Content-Language", i18n.tag(code))
        response.headers.setdefault("Vary", "Accept-Language, Cookie")


def _back_to(request: web.Request) -> str:
    """Where the switch returns to: this page, or for a page that answered a form, the page
    the form was on."""
    if request.method == "GET":
        return request.path_qs
    referer = _url(request.headers.get("Referer", ""))  # same-origin only (Referrer-Policy)
    return referer.path_qs if referer is not None and referer.is_absolute() else "/"


def _url(value: str) -> URL | None:
    try:
        return URL(value)
    except ValueError:  # e.g. "http://[x": not a URL
        return None


def _safe_target(value: str) -> str:
    """Only a path on this site: never another host (no open redirect). The check is made on
    what will be sent back (decoded: "/%2Fevil.example" would become "//evil.example")."""
    url = _url(value)
    if url is None or url.is_absolute() or not value.startswith("/"):
        return "/"
    target = url.path_qs
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\\" in value:
        return "/"
    return target


def page_context(request: web.Request) -> dict[str, Any]:
    """What base.html needs: the page's language, the switch, the scripts' catalogue."""
    code = request_locale(request)
    return {
        "locale": code,
        "lang": i18n.tag(code),
        "languages": [(i18n.tag(c), name) for c, name in i18n.LANGUAGES.items() if c != code],
        "language_back": _back_to(request),
        "script_messages": i18n.script_messages(code),  # base.html: |tojson
    }


async def set_language(request: web.Request) -> web.StreamResponse:
    """POST /idioma (lang, next): remember the language, back to the page."""
    form = await read_form(request)
    code = i18n.match(form.get("lang", ""))
    response = web.HTTPSeeOther(_safe_target(form.get("next", "/")))
    if code is not None:
        config = request.app[CONFIG]
        response.set_cookie(
            COOKIE,
            i18n.tag(code),
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=config.session.cookie_secure or config.tls,
        )
    raise response
