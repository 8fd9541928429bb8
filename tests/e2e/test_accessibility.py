"""Accessibility in real Chromium: axe-core on every page (Portuguese, and the patient's pages in
English too), the patient's whole visit with the keyboard alone, the queue position read out to
screen readers, and every patient page on a phone's screen."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.pages import (
    PHONE,
    PHONE_CONTEXT,
    assert_accessible,
    assert_fits_width,
    assert_focus_visible,
    log_in,
    open_dashboard_as_admin,
    register_patient,
    register_professional,
    tab_to,
    type_date,
    visit_patient_pages,
)
from tests.support import make_cpf

# A shorter device test: these tests need its results on the page, not its measurements.
SERVER_SETTINGS = {"device_test": {"seconds": 3}}


def test_every_page_passes_axe_in_portuguese(browser: Browser, server: Server) -> None:
    # Someone registers as a professional: the forms, with and without errors.
    visitor_ctx = browser.new_context(locale="pt-BR")
    visitor = visitor_ctx.new_page()
    visitor.goto(server.url + "/profissional/cadastro")
    assert_accessible(visitor, "professional's registration")
    visitor.get_by_role("button", name="Enviar cadastro").click()
    expect(visitor.get_by_role("alert")).to_have_text("Confira os campos marcados abaixo.")
    assert_accessible(visitor, "professional's registration with errors")
    register_professional(
        visitor, server, "Caio Acessível Prado", "caio.prado@clinica.example",
        ("COREN", "445566", "SP"), "senha-do-caio-123",
    )  # fmt: skip
    assert_accessible(visitor, "registration received")
    visitor.get_by_role("link", name="Ir para a entrada").click()
    assert_accessible(visitor, "professional's sign-in")
    log_in(visitor, server, "caio.prado@clinica.example", "senha-errada-000")
    expect(visitor.get_by_role("alert")).to_be_visible()
    assert_accessible(visitor, "professional's sign-in with an error")
    visitor.goto(server.url + "/nada-aqui")
    expect(visitor.get_by_role("alert")).to_have_text("Página não encontrada.")
    assert_accessible(visitor, "page not found")

    # A whole visit: every patient page, and the professional's list and call page.
    patient_ctx = browser.new_context(locale="pt-BR")
    staff_ctx = browser.new_context(locale="pt-BR")
    patient, pro = patient_ctx.new_page(), staff_ctx.new_page()
    visit_patient_pages(
        patient, pro, server, 6001, "Marta Acessível Lopes", assert_accessible, assert_accessible
    )

    # The management panel, with that visit, its rating, the erasure request and the pending
    # professional in it.
    pro.goto(server.url + "/admin")
    expect(pro.get_by_role("cell", name="Caio Acessível Prado")).to_be_visible()
    expect(pro.locator('[data-figure="visits_today"]')).not_to_have_text("…")
    assert_accessible(pro, "admin: overview")
    for tab, ready in (
        ("Profissionais", pro.get_by_role("button", name="Aprovar Caio Acessível Prado")),
        ("Atendimentos", pro.get_by_role("cell", name="Marta", exact=True)),
        ("Avaliações", pro.get_by_text("Bom atendimento")),
        ("Mídia", pro.locator('[data-process="threads"]').filter(has_not_text="…")),
        ("Privacidade", pro.get_by_role("cell", name="Marta", exact=True)),
        ("Auditoria", pro.locator("tbody tr").first),
    ):
        pro.get_by_role("link", name=tab, exact=True).click()
        expect(ready).to_be_visible()
        assert_accessible(pro, f"admin: {tab}")
    pro.get_by_role("link", name="Atendimentos", exact=True).click()
    pro.get_by_role("row").filter(has_text="Marta").get_by_role("link").click()
    expect(pro.get_by_role("heading", level=2)).to_contain_text("Registro do atendimento")
    assert_accessible(pro, "admin: a visit's record")
    pro.get_by_role("link", name="Trocar senha").click()
    pro.get_by_role("button", name="Trocar senha").click()  # nothing filled in
    expect(pro.locator("#current_password-error")).to_have_text("Informe a sua senha atual.")
    expect(pro.get_by_label("Senha atual")).to_be_focused()  # where the fix is needed
    assert_accessible(pro, "changing one's password, with errors")
    for each in (visitor_ctx, patient_ctx, staff_ctx):
        each.close()


def test_the_patient_pages_pass_axe_in_english(browser: Browser, server: Server) -> None:
    patient_ctx = browser.new_context(locale="en-US")  # the browser asks for English
    staff_ctx = browser.new_context(locale="pt-BR")
    patient, pro = patient_ctx.new_page(), staff_ctx.new_page()
    visit_patient_pages(
        patient, pro, server, 6002, "Helen Access Moore", assert_accessible, language="en"
    )
    expect(patient.locator("html")).to_have_attribute("lang", "en")
    patient_ctx.close()
    staff_ctx.close()


def test_the_patient_path_with_the_keyboard_alone(browser: Browser, server: Server) -> None:
    """From the home page to the thanks page with Tab, Shift+Tab, Enter, Space, the arrow keys
    and typing; the professional uses the mouse. The focus shows at every stop."""
    staff_ctx = browser.new_context(locale="pt-BR")
    pro = staff_ctx.new_page()
    open_dashboard_as_admin(pro, server)
    ahead_ctx = browser.new_context(locale="pt-BR")
    ahead = ahead_ctx.new_page()
    register_patient(ahead, server, 6101, "Otto Adiante Reis")  # first in the queue

    context = browser.new_context(locale="pt-BR")
    page = context.new_page()
    keys = page.keyboard
    page.goto(server.url + "/")
    tab_to(page, page.get_by_role("link", name="Sou paciente"))
    keys.press("Enter")

    # Registration: the skip link jumps over the navigation; a wrong CPF is fixed where the
    # focus lands after the error.
    expect(page.get_by_role("heading", level=1)).to_have_text("Cadastro do paciente")
    skip = page.get_by_role("link", name="Pular para o conteúdo")
    tab_to(page, skip)
    expect(skip).to_be_in_viewport()
    keys.press("Enter")
    keys.press("Tab")
    expect(page.get_by_role("link", name="Entre com CPF e data de nascimento")).to_be_focused()
    tab_to(page, page.get_by_label("CPF"))
    keys.type("123.456.789-00")  # wrong check digits
    tab_to(page, page.get_by_label("Nome completo"))
    keys.type("Lia Teclado Nunes")
    tab_to(page, page.get_by_label("Data de nascimento"))
    type_date(page, "Data de nascimento", date(1985, 7, 21))
    assert_focus_visible(page)  # the typing moved the focus on within the field
    tab_to(page, page.get_by_label("Telefone (com DDD)"))
    keys.type("(61) 98888-7777")
    keys.press("Enter")
    cpf = page.get_by_label("CPF")
    expect(page.locator("#cpf-error")).to_have_text("CPF inválido. Confira os 11 números.")
    expect(cpf).to_be_focused()
    expect(page.get_by_label("Data de nascimento")).to_have_value("1985-07-21")
    assert_focus_visible(page)
    keys.press("Control+A")
    keys.type(make_cpf(6102))
    keys.press("Enter")

    # The device test, to the end: play the sound, answer with Space and the arrow keys.
    expect(page.get_by_role("heading", level=1)).to_have_text("Teste de câmera e microfone")
    expect(page.locator("#test-status")).to_have_text("Teste concluído.", timeout=40_000)
    tab_to(page, page.get_by_role("button", name="Tocar som de teste"))
    keys.press("Space")
    heard, not_heard = page.get_by_label("Sim, ouvi"), page.get_by_label("Não ouvi")
    tab_to(page, heard)
    keys.press("Space")
    expect(heard).to_be_checked()
    keys.press("ArrowRight")
    expect(not_heard).to_be_checked()
    keys.press("ArrowLeft")
    expect(heard).to_be_checked()
    assert_focus_visible(page, heard)
    keys.press("Tab")
    expect(page.get_by_role("button", name="Continuar")).to_be_focused()
    keys.press("Enter")

    # The terms: the text's box takes the focus (to scroll it with the keys), then the box to
    # tick and the button.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Leia os termos de uso")
    tab_to(page, page.get_by_role("region", name="Texto dos termos de uso"))
    keys.press("ArrowDown")
    accept = page.get_by_label("Li e aceito os termos de uso")
    tab_to(page, accept)
    keys.press("Space")
    expect(accept).to_be_checked()
    keys.press("Tab")
    expect(page.get_by_role("button", name="Aceitar e entrar na fila")).to_be_focused()
    keys.press("Enter")

    # The queue: screen readers hear the position, and again when the patient ahead leaves.
    expect(page.get_by_role("heading", level=1)).to_have_text("Você está na fila, Lia")
    spoken = page.locator("#position-announcement")
    expect(spoken).to_have_attribute("aria-live", "polite")
    expect(spoken).to_have_text("Sua posição na fila: 2º")
    ahead.once("dialog", lambda dialog: dialog.accept())
    ahead.get_by_role("button", name="Sair da fila").click()
    expect(spoken).to_have_text("Sua posição na fila: 1º")
    expect(page.locator("#position")).to_have_text("1º")

    # The call: microphone off and on, a chat message, then hang up (back with Shift+Tab).
    pro.get_by_role("button", name="Atender próximo").click()
    expect(page).to_have_url(server.url + "/paciente/consulta", timeout=10_000)
    expect(page.locator("#call-status")).to_have_text("Conectado.", timeout=20_000)
    tab_to(page, page.get_by_role("button", name="Desligar microfone"))
    keys.press("Space")
    expect(page.get_by_role("button", name="Ligar microfone")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(pro.locator("#remote-mic-off")).to_be_visible()
    keys.press("Enter")
    expect(page.get_by_role("button", name="Desligar microfone")).to_be_focused()
    expect(pro.locator("#remote-mic-off")).to_be_hidden()
    tab_to(page, page.get_by_label("Escreva uma mensagem"))
    keys.type("Boa tarde, doutora")
    keys.press("Enter")
    expect(pro.locator("#chat-log")).to_contain_text("Boa tarde, doutora")
    tab_to(page, page.get_by_role("button", name="Desligar", exact=True), backwards=True)
    keys.press("Enter")
    expect(pro).to_have_url(server.url + "/profissional?aviso=patient_hangup", timeout=10_000)
    notice = pro.locator(".alert-info[role=status]")
    expect(notice).to_have_text("O paciente encerrou o atendimento.")

    # The rating: Tab enters the stars, Space and the arrow keys choose; Shift+Tab comes back
    # to the chosen star.
    expect(page).to_have_url(server.url + "/paciente/avaliacao", timeout=10_000)
    stars = page.get_by_role("group", name="Sua nota, de 1 a 5 estrelas")
    expect(stars.get_by_role("radio")).to_have_count(5)
    one, four, five = (
        page.get_by_role("radio", name=name, exact=True)
        for name in ("1 estrela", "4 estrelas", "5 estrelas")
    )
    tab_to(page, one)
    keys.press("Space")
    expect(one).to_be_checked()
    for _ in range(4):
        keys.press("ArrowRight")
    expect(five).to_be_checked()
    assert_focus_visible(page, five)
    keys.press("Tab")
    keys.type("Consegui fazer tudo pelo teclado.")
    tab_to(page, five, backwards=True)
    keys.press("ArrowLeft")
    expect(four).to_be_checked()
    expect(four).to_be_focused()
    tab_to(page, page.get_by_role("button", name="Enviar avaliação"))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Obrigado pela sua avaliação!")
    with sqlite3.connect(server.database) as db:
        rating = db.execute(
            "SELECT rating FROM tickets WHERE comment = 'Consegui fazer tudo pelo teclado.'"
        ).fetchone()
    assert rating == (4,)
    for each in (staff_ctx, ahead_ctx, context):
        each.close()


def test_every_patient_page_fits_a_phone(browser: Browser, server: Server, tmp_path: Path) -> None:
    """375×667 (a small phone): nothing to press or watch is cut off, nothing scrolls sideways,
    and the hang-up button is on the screen without scrolling. Screenshots in tmp_path."""
    shots = tmp_path / "phone"
    shots.mkdir()
    seen: list[str] = []

    def on_a_phone(page: Page, what: str) -> None:
        if what == "call":  # once the connection's quality shows, the header is complete
            expect(page.locator("#quality")).to_be_visible(timeout=15_000)
        seen.append(what)
        name = f"{len(seen):02d}-{what.replace(',', '').replace(' ', '-')}.png"
        page.screenshot(path=shots / name, full_page=True)
        assert_fits_width(page, what)
        if what == "call":
            box = page.get_by_role("button", name="Desligar", exact=True).bounding_box()
            assert box is not None
            assert page.evaluate("scrollY") == 0
            assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box

    phone_ctx = browser.new_context(locale="pt-BR", **PHONE_CONTEXT)
    staff_ctx = browser.new_context(locale="pt-BR")
    patient, pro = phone_ctx.new_page(), staff_ctx.new_page()
    visit_patient_pages(patient, pro, server, 6201, "Nina Celular Rocha", on_a_phone)
    print(f"\n{len(seen)} screenshots at {PHONE['width']}×{PHONE['height']} in {shots}")
    assert "call" in seen
    phone_ctx.close()
    staff_ctx.close()
