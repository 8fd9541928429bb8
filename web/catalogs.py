"""Keeping the message catalogues in step with the code (a maintainer's tool, and the tests').

    .venv/bin/python -m web.catalogs          # extract every text, update web/locale/*/messages.po
    .venv/bin/python -m web.catalogs --check  # only say what is missing or stale (exit 1 if any)

Texts are found as babel.cfg says (Python, Jinja2 templates, page scripts) with Babel's default
keywords. Updating adds new texts with an empty translation (Portuguese shows until one is
written), drops texts the code no longer has, and keeps every translation still in use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from web import i18n

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
# Portuguese and English both have one singular form, for exactly 1 (static/js/i18n.js too).
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


def extract() -> Catalog:
    """Every text of the code, as a catalogue template."""
    with MAPPING.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    template = Catalog(project="Atende", msgid_bugs_address="", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _existing(code: str) -> Catalog:
    path = i18n.po_path(code)
    if path.is_file():
        with path.open("rb") as fh:
            return read_po(fh, locale=code)
    catalog = Catalog(
        locale=code,
        header_comment=f"# Atende: the texts in {i18n.LANGUAGES[code]} (see web/catalogs.py).",
        project="Atende",
        version="1",
        msgid_bugs_address="",
        last_translator="Atende",
        language_team=i18n.LANGUAGES[code],
        fuzzy=False,
    )
    catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS)]
    return catalog


def update(template: Catalog) -> None:
    """Bring every language's catalogue in step with the template."""
    for code in i18n.LANGUAGES:
        catalog = _existing(code)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        path = i18n.po_path(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            # no line numbers: an edit elsewhere in a file does not churn the catalogues
            write_po(fh, catalog, width=100, include_lineno=False, ignore_obsolete=True)


def ids(catalog: Catalog) -> set[str]:
    """The catalogue's message ids (a plural text by its singular)."""
    return {str(m.id[0] if isinstance(m.id, tuple | list) else m.id) for m in catalog if m.id}


def missing_translations(catalog: Catalog, template: Catalog) -> list[str]:
    """The template's texts that this catalogue leaves untranslated (or only fuzzy)."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = found.string if found is not None else None
        forms = strings if isinstance(strings, tuple | list) else (strings,)
        if found is None or found.fuzzy or not all(forms):
            missing.append(str(message.id[0] if isinstance(message.id, tuple) else message.id))
    return missing


def stale(catalog: Catalog, template: Catalog) -> list[str]:
    """Texts the catalogue has that the code no longer uses."""
    return sorted(ids(catalog) - ids(template))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web.catalogs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="report only; change nothing")
    args = parser.parse_args(argv)
    template = extract()
    if not args.check:
        update(template)
    problems = 0
    for code in i18n.LANGUAGES:
        if code == i18n.DEFAULT:  # the source language: its texts are the message ids
            continue
        catalog = i18n.catalogue.__wrapped__(code)
        for text in missing_translations(catalog, template):
            print(f"{code}: untranslated: {text}")
            problems += 1
        for text in stale(catalog, template):
            print(f"{code}: no longer used: {text}")
            problems += 1
    print(f"{len(template)} texts; {problems} to look at")
    return 1 if problems and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
