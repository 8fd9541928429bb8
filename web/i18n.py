"""Languages: the message catalogues, choosing a visitor's language, translating for it.

The catalogues are web/locale/<code>/LC_MESSAGES/messages.po (Brazilian Portuguese, the source
language, and English). They are read and compiled in memory at start-up (no .mo files to build
or commit); README "Languages" says how to extract new texts and update them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import escape

from web.text import Text

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "pt_BR"
# Language code -> its name in that language (what the language switch shows).
LANGUAGES: dict[str, str] = {"pt_BR": "Português", "en": "English"}
SCRIPTS = "static/js/"  # catalogue entries used here go to the page's scripts


def tag(code: str) -> str:
    """The BCP 47 tag of a language code, for `<html lang>` and the cookie: pt_BR -> pt-BR."""
    return code.replace("_", "-")


def match(value: str) -> str | None:
    """The supported language a tag names: exactly ("pt-BR", "en"), else by its language alone
    ("pt-PT" and "pt" -> pt_BR, "en-GB" -> en)."""
    parts = value.strip().replace("_", "-").lower().split("-")
    for code in LANGUAGES:
        if tag(code).lower() == "-".join(parts):
            return code
    for code in LANGUAGES:
        if code.split("_")[0].lower() == parts[0]:
            return code
    return None


def negotiate(accept_language: str) -> str | None:
    """The supported language an Accept-Language header prefers most, or None."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")[:32]):
        name, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name.strip() and quality > 0:
            ranked.append((-quality, index, name))
    for _, _, name in sorted(ranked):
        code = match(name)
        if code is not None:
            return code
    return None


def choose(chosen: str | None, accept_language: str | None) -> str:
    """The visitor's language: the one they chose (cookie), else their browser's, else
    Brazilian Portuguese."""
    if chosen and chosen in {tag(code) for code in LANGUAGES}:
        return chosen.replace("-", "_")
    return negotiate(accept_language or "") or DEFAULT


def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"


@cache
def catalogue(code: str) -> Catalog:
    with po_path(code).open("rb") as fh:
        return read_po(fh, locale=code)


@cache
def translations(code: str) -> Translations:
    """The compiled catalogue (fuzzy and empty entries fall back to the Portuguese text)."""
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(code))
    compiled.seek(0)
    return Translations(compiled)


def load() -> None:
    """Read every catalogue now, so a broken one stops start-up instead of a page."""
    for code in LANGUAGES:
        translations(code)
        script_messages(code)
        _is_source(code)


def render(text: str, code: str) -> str:
    """A text in this language: a `Text` is translated, a plain string is data and stays."""
    if not isinstance(text, Text):
        return text
    done = text.rendered.get(code)  # a text sent to many pages is translated once
    if done is None:
        found = translations(code)
        done = text.rendered[code] = text.render(found.gettext, found.ngettext)
    return done


@cache
def _is_source(code: str) -> bool:
    """A catalogue that translates nothing: the source language (texts are as written)."""
    strings = [m.string for m in catalogue(code) if m.id]
    return not any(any(s) if isinstance(s, tuple | list) else s for s in strings)


def localize(value: Any, code: str) -> Any:
    """A message (dicts, lists) with every `Text` in it translated."""
    if _is_source(code):
        return value  # a Text's own value is the Portuguese
    return _localize(value, code)


def _localize(value: Any, code: str) -> Any:
    if isinstance(value, str):
        return render(value, code)
    if isinstance(value, Mapping):
        return {k: _localize(v, code) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localize(v, code) for v in value]
    return value


@cache
def script_messages(code: str) -> dict[str, str | list[str]]:
    """The translations the page scripts use (msgid -> text, or -> plural forms), for
    static/js/i18n.js; untranslated ones are left out (the script shows the Portuguese)."""
    found: dict[str, str | list[str]] = {}
    for message in catalogue(code):
        if not message.id or message.fuzzy:
            continue
        if not any(path.startswith(SCRIPTS) for path, _ in message.locations):
            continue
        if isinstance(message.id, tuple | list):
            forms = [str(s) for s in message.string or ()]
            if forms and all(forms):
                found[str(message.id[0])] = forms
        elif message.string:
            found[str(message.id)] = str(message.string)
    return found


# -- Jinja2 -------------------------------------------------------------------------------


def _page_language(context: jinja2.runtime.Context) -> str:
    code = context.get("locale")
    return code if isinstance(code, str) and code in LANGUAGES else DEFAULT


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    if isinstance(message, Text):  # a text made in Python: data inside it stays escaped
        return escape(render(message, _page_language(context))).replace("%", "%%")
    return translations(_page_language(context)).gettext(message)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return translations(_page_language(context)).ngettext(singular, plural, n)


@jinja2.pass_context
def finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    """Every `{{ … }}` that prints a `Text` made in Python prints it in the page's language."""
    return render(value, _page_language(context)) if isinstance(value, Text) else value


@jinja2.pass_context
def _translated(context: jinja2.runtime.Context, value: Any) -> Any:
    """The `tr` filter: a `Text` in the page's language before another filter changes it."""
    return finalize(context, value)


def install(env: jinja2.Environment) -> None:
    """`_()` and `ngettext()` in templates translate into the page's `locale`; templates are
    made with `finalize=finalize`."""
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters["tr"] = _translated
