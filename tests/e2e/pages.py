"""What a person does on the pages, for the browser tests."""

from __future__ import annotations

import time
from typing import Any

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


def start_call(pro: Page, patient: Page, server: Server, seed: int, name: str) -> None:
    """The admin (who may attend) takes a newly registered patient: both call pages open."""
    open_dashboard_as_admin(pro, server)
    register_patient(patient, server, seed, name)
    expect(pro.locator("#waiting-list")).to_contain_text(name.split()[0])
    pro.get_by_role("button", name="Atender próximo").click()
    expect(pro).to_have_url(server.url + "/profissional/consulta")
    expect(patient).to_have_url(server.url + "/paciente/consulta", timeout=10_000)


def end_call(pro: Page, patient: Page, server: Server) -> None:
    """The professional ends the call: back to the list, the patient to the rating page."""
    pro.get_by_role("button", name="Encerrar atendimento").click()
    expect(pro).to_have_url(server.url + "/profissional", timeout=10_000)
    expect(patient).to_have_url(server.url + "/paciente/avaliacao", timeout=10_000)


STATS_JS = """
async () => {
  const call = window.atendeCall;
  if (!call) return null;
  const out = {framesDecoded: 0, frameWidth: 0, audioBytes: 0};
  (await call.pc.getStats()).forEach((r) => {
    if (r.type !== "inbound-rtp") return;
    if (r.kind === "video") {
      out.framesDecoded = r.framesDecoded || 0;
      out.frameWidth = r.frameWidth || 0;
    } else if (r.kind === "audio") {
      out.audioBytes = r.bytesReceived || 0;
    }
  });
  return out;
}
"""


def media_stats(page: Page) -> dict[str, Any]:
    return page.evaluate(STATS_JS) or {"framesDecoded": 0, "frameWidth": 0, "audioBytes": 0}


def wait_first_frame(
    pages: dict[str, Page], since: float, timeout: float = 30.0
) -> dict[str, float]:
    """Seconds from `since` until each page decoded its first remote video frame."""
    first: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(first) < len(pages):
        assert time.monotonic() < deadline, f"no remote video on {set(pages) - set(first)}"
        for name, page in pages.items():
            if name not in first and media_stats(page)["framesDecoded"] > 0:
                first[name] = time.monotonic() - since
        time.sleep(0.05)
    return first


def assert_media_flows(page: Page) -> None:
    """framesDecoded and audio bytes grow between two readings; the video has a size."""
    before = media_stats(page)
    page.wait_for_timeout(1500)
    after = media_stats(page)
    assert after["framesDecoded"] > before["framesDecoded"], (before, after)
    assert after["frameWidth"] > 0
    assert after["audioBytes"] > before["audioBytes"], (before, after)
