"""A whole visit through the pages, in two real Chromium contexts with fake camera and mic."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, BrowserContext, Response, expect

from tests.e2e.conftest import Server
from tests.e2e.pages import (
    accept_terms,
    assert_media_flows,
    log_in,
    register_professional,
    skip_device_test,
    wait_first_frame,
)
from tests.support import make_cpf
from web.formats import duration


def test_a_whole_visit(browser: Browser, server: Server) -> None:
    # Every script, style and data request of every page succeeds (form pages answer a
    # mistake with 422 on purpose: those are documents).
    failed: list[str] = []

    def watched(context: BrowserContext) -> BrowserContext:
        def seen(response: Response) -> None:
            if response.status >= 400 and response.request.resource_type != "document":
                failed.append(f"{response.status} {response.url}")

        context.on("response", seen)
        return context

    # The professional registers and an admin approves them, all through the pages.
    # (this browser's clock is in Tokyo; the clinic is in São Paulo: pages show the clinic's)
    staff_ctx = watched(browser.new_context(locale="pt-BR", timezone_id="Asia/Tokyo"))
    pro = staff_ctx.new_page()
    register_professional(pro, server)
    log_in(pro, server, "ana.souza@clinica.example", "senha-da-ana-123")
    expect(pro.get_by_role("alert")).to_contain_text("aguarda a aprovação")
    log_in(pro, server, server.admin_email, server.admin_password)
    expect(pro.get_by_role("heading", name="Painel de gestão")).to_be_visible()
    pro.get_by_role("row", name="Ana Beatriz Souza").get_by_role("button", name="Aprovar").click()
    expect(pro.get_by_text("Nenhum cadastro pendente.")).to_be_visible()
    pro.get_by_role("button", name="Sair").click()
    log_in(pro, server, "ana.souza@clinica.example", "senha-da-ana-123")
    expect(pro.get_by_role("heading", name="Pacientes aguardando")).to_be_visible()

    # The patient registers, accepts the terms and sees position 1.
    patient_ctx = watched(browser.new_context(locale="pt-BR"))
    patient = patient_ctx.new_page()
    patient.goto(server.url + "/")
    patient.get_by_role("link", name="Sou paciente").click()
    patient.get_by_label("CPF").fill("123.456.789-00")  # wrong check digits first
    patient.get_by_label("Nome completo").fill("Joana Maria Pereira")
    patient.get_by_label("Data de nascimento").fill("1985-07-21")
    patient.get_by_label("Telefone (com DDD)").fill("(61) 98888-7777")
    patient.get_by_role("button", name="Continuar").click()
    expect(patient.locator("#cpf-error")).to_have_text("CPF inválido. Confira os 11 números.")
    patient.get_by_label("CPF").fill(make_cpf(987654321))
    patient.get_by_role("button", name="Continuar").click()
    skip_device_test(patient)  # tests/e2e/test_device.py covers the device test
    accept_terms(patient)
    expect(patient.locator("#position")).to_have_text("1º")

    # The same patient opens a second tab: it takes over, the first one says why it stopped.
    second_tab = patient_ctx.new_page()
    second_tab.goto(server.url + "/paciente/fila")
    expect(second_tab.locator("#position")).to_have_text("1º")
    expect(patient.locator("#removed")).to_contain_text("aberta em outra aba")
    patient.close()
    patient = second_tab

    # The professional sees her (first name only) and takes her.
    expect(pro.locator("#waiting-list")).to_contain_text("Joana")
    expect(pro.locator("#waiting-list")).not_to_contain_text("Pereira")
    clicked = time.monotonic()
    pro.get_by_role("button", name="Atender próximo").click()
    expect(pro).to_have_url(server.url + "/profissional/consulta")
    expect(patient).to_have_url(server.url + "/paciente/consulta", timeout=10_000)

    expect(patient.locator("#remote-name")).to_have_text("Ana Beatriz Souza — CRM 123456/DF")
    first = wait_first_frame({"professional": pro, "patient": patient}, since=clicked)
    print(
        "\ntime from 'Atender próximo' to first remote frame: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in first.items())
    )
    assert_media_flows(pro)
    assert_media_flows(patient)
    expect(patient.locator("#call-status")).to_have_text("Conectado.")

    # The professional ends the call; the patient lands on the rating page.
    pro.get_by_role("button", name="Encerrar atendimento").click()
    expect(pro).to_have_url(server.url + "/profissional", timeout=10_000)
    expect(patient).to_have_url(server.url + "/paciente/avaliacao", timeout=10_000)
    patient.locator("label[for=rating-4]").click()  # the fourth star button
    expect(patient.get_by_role("radio", name="4 estrelas")).to_be_checked()
    patient.get_by_label("Comentário (opcional)").fill("Muito atenciosa, obrigada!")
    patient.get_by_role("button", name="Enviar avaliação").click()
    expect(patient.get_by_role("heading")).to_have_text("Obrigado pela sua avaliação!")

    with sqlite3.connect(server.database) as db:
        row = db.execute(
            "SELECT t.state, t.rating, t.comment, t.started_at, t.ended_at, t.end_reason, s.email"
            " FROM tickets t JOIN staff s ON s.id = t.professional_id"
        ).fetchone()
    state, rating, comment, started, ended, reason, email = row
    assert (state, rating, comment) == ("ended", 4, "Muito atenciosa, obrigada!")
    assert email == "ana.souza@clinica.example"
    assert started is not None and ended > started
    assert reason == "professional_hangup"

    # The management panel shows the same visit: its numbers are the database's.
    pro.get_by_role("button", name="Sair").click()
    log_in(pro, server, server.admin_email, server.admin_password)
    figure = pro.locator("[data-figure]")
    expect(pro.locator('[data-figure="visits_today"]')).to_have_text("1")
    expect(pro.locator('[data-figure="average_rating"]')).to_have_text("4")
    expect(pro.locator('[data-figure="waiting_now"]')).to_have_text("0")
    expect(pro.locator('[data-figure="in_call_now"]')).to_have_text("0")
    expect(pro.locator('[data-figure="average_duration_s"]')).to_have_text(
        duration(ended - started)
    )
    assert figure.count() == 8
    expect(pro.locator("#panel-status")).to_contain_text("Atualizado às")
    updated = pro.locator("#panel-status").inner_text()  # "Atualizado às 14:05:09."
    shown = datetime.strptime(updated.split("às ")[1].rstrip("."), "%H:%M:%S")
    clinic = datetime.now(ZoneInfo("America/Sao_Paulo"))
    late = clinic - clinic.replace(hour=shown.hour, minute=shown.minute, second=shown.second)
    apart = abs(late.total_seconds()) % 86400
    assert min(apart, 86400 - apart) < 120, (updated, clinic)
    pro.get_by_role("link", name="Atendimentos").click()
    expect(pro.get_by_role("cell", name="Ana Beatriz Souza (CRM 123456/DF)")).to_be_visible()
    expect(pro.get_by_role("cell", name="Joana", exact=True)).to_be_visible()
    staff_ctx.close()
    patient_ctx.close()
    assert failed == []

    # The server's log told the story without anyone's personal data.
    log = server.log.read_text()
    assert '"POST /paciente/cadastro HTTP/1.1" 303' in log  # access log lines are there
    for personal in ("Joana", "Pereira", make_cpf(987654321), "98888", "ana.souza", "Beatriz"):
        assert personal not in log, personal
    assert "127.0.0.1 [" not in log  # no client address in access lines
