"""Languages in a real browser: the switch on the home page, English all the way to the queue
(page scripts and server messages too), the choice kept across pages and reloads, and dates as
each language writes them."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.support import make_cpf

ENGLISH_TIME = re.compile(r"\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2}\s[AP]M")
BRAZILIAN_TIME = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")


def expect_language(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)


def test_a_patient_switches_to_english_and_it_sticks(browser: Browser, server: Server) -> None:
    context = browser.new_context(locale="pt-BR")  # the browser asks for Portuguese
    page = context.new_page()
    page.goto(server.url + "/")
    expect_language(page, "pt-BR")
    expect(page.get_by_role("heading", level=1)).to_have_text("Atendimento de saúde por vídeo")

    page.get_by_role("button", name="English").click()
    expect_language(page, "en")
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Health care by video")
    expect(page.get_by_role("button", name="Português")).to_be_visible()

    # The registration page, in English, and still after a reload.
    page.get_by_role("link", name="I am a patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient registration")
    page.reload()
    expect_language(page, "en")
    page.get_by_label("CPF").fill("123.456.789-00")  # wrong check digits: an English error
    page.get_by_label("Full name").fill("Joan Smith")
    page.get_by_label("Date of birth").fill("1938-04-09")
    page.get_by_label("Phone (with area code)").fill("(61) 98888-7777")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#cpf-error")).to_have_text("Invalid CPF. Check the 11 digits.")
    page.get_by_label("CPF").fill(make_cpf(555001))
    page.get_by_role("button", name="Continue").click()

    # The device test: its script's texts and the server's verdicts, in English.
    expect(page.get_by_role("heading", level=1)).to_have_text("Camera and microphone test")
    expect(page.locator("#test-status")).to_have_text("Test finished.", timeout=30_000)
    expect(page.locator("#results [data-item=microphone]")).to_contain_text(
        "Microphone: Microphone working."
    )
    expect(page.locator("#results [data-item=camera]")).to_contain_text("Camera:")
    page.get_by_role("link", name="Skip the test").click()

    # The terms (in English) and the queue: the position and the estimate come from the socket.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Hello, Joan. Please read the terms of use"
    )
    expect(page.locator(".terms-text")).to_contain_text(
        "the Portuguese text is the one that applies"
    )
    page.get_by_label("I have read and accept the terms of use").check()
    page.get_by_role("button", name="Accept and join the queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are in the queue, Joan")
    expect(page.locator("#position")).to_have_text("#1")
    expect(page.locator("#waiting-total")).to_have_text("1 person in the queue")
    expect(page.locator("#estimate")).to_have_text(
        "No professional is available right now. You stay in the queue."
    )
    page.reload()
    expect(page.locator("#position")).to_have_text("#1")
    expect(page.locator("#status")).to_have_text("You are next.")

    # Back to Portuguese from the queue: the same page, its live texts too.
    page.get_by_role("button", name="Português").click()
    expect_language(page, "pt-BR")
    expect(page).to_have_url(server.url + "/paciente/fila")
    expect(page.locator("#position")).to_have_text("1º")
    expect(page.locator("#waiting-total")).to_have_text("1 pessoa na fila")
    context.close()


def test_dates_and_times_follow_the_language(browser: Browser, server: Server) -> None:
    # Someone joins the queue, so the visits page has an arrival time.
    visitor = browser.new_context(locale="pt-BR")
    patient = visitor.new_page()
    patient.goto(server.url + "/paciente")
    patient.get_by_label("CPF").fill(make_cpf(555002))
    patient.get_by_label("Nome completo").fill("Rui Costa")
    patient.get_by_label("Data de nascimento").fill("1990-01-01")
    patient.get_by_label("Telefone (com DDD)").fill("(61) 98888-7777")
    patient.get_by_role("button", name="Continuar").click()
    patient.get_by_role("link", name="Pular o teste").click()
    patient.get_by_label("Li e aceito os termos de uso").check()
    patient.get_by_role("button", name="Aceitar e entrar na fila").click()
    expect(patient.locator("#position")).not_to_have_text("…")

    context = browser.new_context(locale="en-US")  # the browser asks for English
    page = context.new_page()
    page.goto(server.url + "/profissional/entrar")
    expect_language(page, "en")
    page.get_by_label("Email").fill(server.admin_email)
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Management panel")).to_be_visible()
    page.get_by_role("link", name="Visits", exact=True).click()
    arrival = page.locator("table tbody tr").first.locator("td").nth(1)
    expect(arrival).to_have_text(ENGLISH_TIME)

    page.get_by_role("button", name="Português").click()
    expect_language(page, "pt-BR")
    expect(page.get_by_role("heading", name="Painel de gestão")).to_be_visible()
    expect(page.locator("table tbody tr").first.locator("td").nth(1)).to_have_text(BRAZILIAN_TIME)
    for each in (visitor, context):
        each.close()
