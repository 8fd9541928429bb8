"""The message catalogues against the code, and the pieces that choose and translate."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest
from babel.messages.catalog import Catalog

from web import catalogs, i18n
from web.device_check import Level, Verdict, summary, summary_text
from web.estimate import WaitRange, describe
from web.queue import Priority, PriorityDecision
from web.text import Text, _, join, ngettext
from web.throttle import wait_text


@pytest.fixture(scope="module")
def template() -> Catalog:
    """Every text of the code, extracted with Babel as babel.cfg says."""
    return catalogs.extract()


def test_the_code_has_texts_from_python_templates_and_scripts(template: Catalog) -> None:
    where = {path.split("/")[0] for message in template for path, _ in message.locations}
    assert where == {"web", "templates", "static"}
    assert "Sou paciente" in catalogs.ids(template)  # a template
    assert "CPF inválido. Confira os 11 números." in catalogs.ids(template)  # Python
    assert "Conexão perdida. Reconectando…" in catalogs.ids(template)  # a page script


def test_every_text_has_an_english_translation(template: Catalog) -> None:
    english = i18n.catalogue("en")
    assert catalogs.missing_translations(english, template) == [], (
        "untranslated: run `python -m web.catalogs` and translate the new texts in"
        " web/locale/en/LC_MESSAGES/messages.po"
    )


def test_the_catalogues_have_no_texts_the_code_dropped(template: Catalog) -> None:
    for code in i18n.LANGUAGES:
        assert catalogs.stale(i18n.catalogue(code), template) == [], (
            f"{code}: run `python -m web.catalogs` to drop texts the code no longer has"
        )
    assert catalogs.ids(i18n.catalogue("pt_BR")) == catalogs.ids(template)


def test_translations_keep_every_placeholder() -> None:
    for code in i18n.LANGUAGES:
        assert [(m.id, errors) for m, errors in i18n.catalogue(code).check()] == []


def test_the_languages_share_one_plural_rule() -> None:
    # static/js/i18n.js picks the form with n === 1
    for code in i18n.LANGUAGES:
        assert i18n.catalogue(code).plural_expr == "(n != 1)"


def test_the_scripts_get_only_their_own_translations() -> None:
    english = i18n.script_messages("en")
    assert english["Conexão perdida. Reconectando…"] == "Connection lost. Reconnecting…"
    assert english["%(num)d pessoa na fila"] == [
        "%(num)d person in the queue",
        "%(num)d people in the queue",
    ]
    assert "Sou paciente" not in english  # a template's text: rendered by the server
    assert i18n.script_messages("pt_BR") == {}  # Portuguese: the scripts' own texts


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt_BR"),
        ("pt", "pt_BR"),
        ("PT-pt", "pt_BR"),
        ("fr-CA,fr;q=0.9,en-US;q=0.5,pt;q=0.4", "en"),
        ("pt;q=0.2,en;q=0.3", "en"),
        ("en;q=0", None),
        ("en;q=nonsense", None),
        ("*", None),
        ("zh-Hant-TW", None),
        (",,;;=", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_a_choice_wins_over_the_browser_and_portuguese_is_the_default() -> None:
    assert i18n.choose("en", "pt-BR") == "en"
    assert i18n.choose("pt-BR", "en") == "pt_BR"
    assert i18n.choose("klingon", "en-US") == "en"  # a cookie we do not know is ignored
    assert i18n.choose(None, None) == "pt_BR"
    assert i18n.choose(None, "de") == "pt_BR"


def test_a_text_is_portuguese_until_translated() -> None:
    text = _("Espera estimada: até %(high)d min", high=10)
    assert text == "Espera estimada: até 10 min" and isinstance(text, str)
    assert i18n.render(text, "en") == "Estimated wait: up to 10 min"
    assert i18n.render(text, "pt_BR") == "Espera estimada: até 10 min"
    assert i18n.render("Espera estimada", "en") == "Espera estimada"  # plain str: data
    assert i18n.render(_("um texto que ninguém traduziu"), "en") == "um texto que ninguém traduziu"


def test_texts_inside_texts_and_lists_and_plurals() -> None:
    reason = _("a pedido do próprio paciente")
    removed = _("Você foi retirado da fila pela equipe: %(reason)s.", reason=reason)
    assert i18n.render(removed, "en") == (
        "The team took you out of the queue: at the patient's own request."
    )
    label = PriorityDecision(Priority.SUPER, ("80+", "gestante")).label
    assert label == "80 anos ou mais; Gestante"
    assert i18n.render(label, "en") == "80 years or older; Pregnant"
    assert [wait_text(30), i18n.render(wait_text(299), "en")] == [
        "Muitas tentativas. Tente de novo em 1 minuto.",
        "Too many attempts. Please try again in 5 minutes.",
    ]
    assert i18n.render(ngettext("%(num)d estrela", "%(num)d estrelas", 1), "en") == "1 star"
    message = {"type": "queue", "estimate": describe(WaitRange(0, 5)), "n": [1, describe(None)]}
    assert i18n.localize(message, "en") == {
        "type": "queue",
        "estimate": "Estimated wait: up to 5 min",
        "n": [1, "No professional is available right now. You stay in the queue."],
    }
    assert json.loads(json.dumps(message))["estimate"] == "Espera estimada: até 5 min"
    assert i18n.localize(message, "pt_BR") is message  # the source language: nothing to do


def test_a_stored_device_summary_is_translated_word_by_word() -> None:
    found = [
        Verdict("camera", Level.PROBLEM, _("Não recebemos imagem da sua câmera."), _("sem imagem")),
        Verdict(
            "microphone",
            Level.WARNING,
            _("O som do seu microfone está muito baixo."),
            _("som baixo"),
        ),
    ]
    stored = summary(found, False)
    assert stored == "sem imagem, som baixo, não ouviu o som"
    assert (
        i18n.render(summary_text(stored), "en") == "no picture, low sound, did not hear the sound"
    )
    assert i18n.render(summary_text(""), "en") == ""


def test_texts_survive_copies_and_pickles() -> None:
    verdict = Verdict("network", Level.OK, _("Conexão boa%(via)s.", via=_(" (pela rede de apoio)")))
    copied = dataclasses.asdict(verdict)["text"]
    assert isinstance(copied, Text)
    assert i18n.render(copied, "en") == "Good connection (through the relay server)."
    for text in (
        copied,
        join("; ", [_("Gestante"), "x"]),
        ngettext("%(num)d estrela", "%(num)d estrelas", 3),
    ):
        again = pickle.loads(pickle.dumps(text))
        assert again == text and i18n.render(again, "en") == i18n.render(text, "en")
        assert copy.copy(text) is text
