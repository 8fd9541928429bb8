"""What a person does on the pages, for the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.support import make_cpf


def register_patient(
    page: Page, server: Server, seed: int, name: str, born: str = "1985-07-21"
) -> None:
    """Register, accept the terms and land on the waiting page."""
    open_device_test(page, server, seed, name, born)
    skip_device_test(page)
    accept_terms(page)


def open_device_test(
    page: Page, server: Server, seed: int, name: str, born: str = "1985-07-21"
) -> None:
    """Register; the device test page follows."""
    page.goto(server.url + "/paciente")
    page.get_by_label("CPF").fill(make_cpf(seed))
    page.get_by_label("Nome completo").fill(name)
    page.get_by_label("Data de nascimento").fill(born)
    page.get_by_label("Telefone (com DDD)").fill("(61) 98888-7777")
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Teste de câmera e microfone")


def skip_device_test(page: Page) -> None:
    page.get_by_role("link", name="Pular o teste").click()


def accept_terms(page: Page) -> None:
    expect(page.get_by_role("heading")).to_contain_text("Leia os termos de uso")
    page.get_by_label("Li e aceito os termos de uso").check()
    page.get_by_role("button", name="Aceitar e entrar na fila").click()
    expect(page).to_have_url(page.url.split("/paciente")[0] + "/paciente/fila")


def log_in(page: Page, server: Server, email: str, password: str) -> None:
    page.goto(server.url + "/profissional/entrar")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()


def open_dashboard_as_admin(page: Page, server: Server) -> None:
    """The admin may attend too: log in and open the professionals' list."""
    log_in(page, server, server.admin_email, server.admin_password)
    expect(page.get_by_role("heading", name="Painel de gestão")).to_be_visible()
    page.goto(server.url + "/profissional")
    expect(page.locator("#status")).to_have_text("Lista atualizada automaticamente.")
