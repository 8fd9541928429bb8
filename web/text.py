"""User-facing texts that are translated when shown, not when made (pure).

Domain modules and views say what to tell a person with `_("Texto em português", **params)`
or `ngettext(singular, plural, n)`: the result is a `Text`, a `str` whose value is the
Portuguese text (so logs, the database and Portuguese pages see it as before) and which
remembers its message id and parameters. Where a text meets a person — a page (web/i18n.py
makes Jinja2 translate every `Text` it prints) or a socket message (web/hub.py translates
every `Text` in a message for that socket's language) — it is translated with `render`.

Plain `str` values are data (names, chat messages) and are never translated.
The names `_` and `ngettext` are Babel's default extraction keywords, so `pybabel extract`
finds these texts with no extra options (see babel.cfg).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


class Text(str):
    """A message id (the Portuguese source text) with its parameters, rendered later."""

    msgid: str
    plural: str | None
    n: int
    params: Mapping[str, object]
    rendered: dict[str, str]  # language -> this text in it, filled by web.i18n.render

    def __new__(
        cls, msgid: str, params: Mapping[str, object], plural: str | None = None, n: int = 1
    ) -> Text:
        pattern = msgid if plural is None or n == 1 else plural
        text = super().__new__(cls, _format(pattern, params))
        text.msgid, text.plural, text.n, text.params = msgid, plural, n, dict(params)
        text.rendered = {}
        return text

    def render(self, gettext: Gettext, ngettext: Ngettext) -> str:
        """This text in the language of these gettext functions; parameters that are texts
        are translated too."""
        if self.plural is None:
            pattern = gettext(self.msgid)
        else:
            pattern = ngettext(self.msgid, self.plural, self.n)
        params = {k: translate(v, gettext, ngettext) for k, v in self.params.items()}
        return _format(pattern, params)

    # Immutable, like str: copies (dataclasses.asdict makes deep ones) are the text itself.
    def __copy__(self) -> Text:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Text:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (self.msgid, self.params, self.plural, self.n))


class Joined(Text):
    """Texts joined by a separator ("; ", ", "), each translated on its own."""

    parts: tuple[str, ...]
    separator: str

    def __new__(cls, separator: str, parts: Iterable[str]) -> Joined:
        items = tuple(parts)
        text = str.__new__(cls, separator.join(items))
        text.msgid, text.plural, text.n, text.params = str(text), None, 1, {}
        text.parts, text.separator, text.rendered = items, separator, {}
        return text

    def render(self, gettext: Gettext, ngettext: Ngettext) -> str:
        return self.separator.join(translate(p, gettext, ngettext) for p in self.parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Joined, (self.separator, self.parts))


def _format(pattern: str, params: Mapping[str, object]) -> str:
    return pattern % params if params else pattern


def _(msgid: str, /, **params: object) -> Text:
    """A text to translate when shown; `%(name)s` placeholders take the keyword arguments."""
    return Text(msgid, params)


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> Text:
    """A text with singular and plural forms; `%(num)d` is n."""
    return Text(singular, {"num": n, **params}, plural, n)


def join(separator: str, parts: Iterable[str]) -> Joined:
    return Joined(separator, parts)


def translate(value: object, gettext: Gettext, ngettext: Ngettext) -> Any:
    """A `Text` rendered with these functions; anything else as it is."""
    return value.render(gettext, ngettext) if isinstance(value, Text) else value
