"""Test helpers for languages: a page's visible text, and Portuguese left in an English one."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from web.accounts import COUNCILS

# Attributes whose values people see or hear (screen readers), and data-* texts that the page
# scripts show (call.html's button labels).
SPOKEN_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt"}
HIDDEN_ELEMENTS = {"script", "style", "template"}

# Letters English words do not have, and common Portuguese words.
PORTUGUESE_LETTERS = re.compile(r"[ãõçáéíóúâêôàº]", re.IGNORECASE)
PORTUGUESE_WORDS = re.compile(
    r"\b(você|não|para|com|uma|um|seu|sua|seus|suas|fila|paciente|pacientes|profissional"
    r"|profissionais|atendimento|atendimentos|consulta|cadastro|cadastre|entrar|sair|senha|nome"
    r"|da|das|dos|pelo|pela|está|são|também|aqui|agora|novo|nova|ainda|quando|hoje|mais|sem"
    r"|teste|câmera|microfone|conexão|dados|termos|aguardando|enviar|voltar|início|ligue"
    r"|página|avaliação|obrigado|nenhum|nenhuma|ninguém|aceito|li|já|é)\b",
    re.IGNORECASE,
)
# Proper nouns that stay in Portuguese on English pages: the councils' names (the select on
# the professional's registration), a health service's name.
PROPER_NOUNS = (*COUNCILS.values(), "Disque Saúde")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: list[str] = []  # open elements whose content is not shown or not English

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        # not shown, in another language on purpose, or codes that are not to be translated
        other_language = bool(lang) and tag != "html" and not str(lang).startswith("en")
        if tag in HIDDEN_ELEMENTS or other_language or values.get("translate") == "no":
            self._hidden.append(tag)
            return
        if self._hidden:
            return
        for name, value in attrs:
            if value and (name in SPOKEN_ATTRIBUTES or _data_text(name, value)):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and self._hidden[-1] == tag:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def _data_text(name: str, value: str) -> bool:
    """A data-* attribute holding words (not a path, JSON, a number or a code)."""
    return name.startswith("data-") and " " in value.strip() and value[0] not in "/[{"


def visible_text(html: str) -> str:
    """What a person sees or hears of a page: its text and spoken attributes, no scripts; an
    element marked with another language (lang="pt-BR") is left out."""
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def portuguese_in(text: str, also_allowed: tuple[str, ...] = ()) -> list[str]:
    """The Portuguese words and letters in a text meant to be English (proper nouns aside)."""
    for noun in (*PROPER_NOUNS, *also_allowed):
        text = text.replace(noun, "")
    return [
        m.group(0) for m in (*PORTUGUESE_WORDS.finditer(text), *PORTUGUESE_LETTERS.finditer(text))
    ]
