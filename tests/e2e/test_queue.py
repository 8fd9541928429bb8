"""The live queue in real browsers: positions, refreshes and arrival alerts."""

from __future__ import annotations

import time

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Server
from tests.e2e.pages import open_dashboard_as_admin, register_patient

# Records browser notifications the page creates (the browser's API, not our code).
NOTIFICATION_SPY = """
window.__notifications = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__notifications.push(options.body); }
};
Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
window.Notification.requestPermission = Real.requestPermission.bind(Real);
"""


def test_positions_move_up_live_and_survive_a_refresh(browser: Browser, server: Server) -> None:
    staff_ctx = browser.new_context(locale="pt-BR")
    staff_ctx.grant_permissions(["notifications", "camera", "microphone"], origin=server.url)
    staff_ctx.add_init_script(NOTIFICATION_SPY)
    pro = staff_ctx.new_page()
    open_dashboard_as_admin(pro, server)

    first_ctx, second_ctx = browser.new_context(locale="pt-BR"), browser.new_context(locale="pt-BR")
    first, second = first_ctx.new_page(), second_ctx.new_page()
    register_patient(first, server, 3001, "Paula Primeira Lima")
    expect(first.locator("#position")).to_have_text("1º")

    # The professional is told of the arrival: a visible alert and a browser notification.
    expect(pro.locator("#arrival")).to_have_text("Novo paciente na fila: Paula")
    expect(pro.locator("#waiting-count")).to_have_text("1")
    assert pro.evaluate("window.__notifications") == ["Novo paciente na fila: Paula"]

    register_patient(second, server, 3002, "Sergio Segundo Melo")
    expect(second.locator("#position")).to_have_text("2º")
    expect(second.locator("#waiting-total")).to_have_text("2 pessoas na fila")
    expect(second.locator("#professionals")).to_have_text("1 profissional atendendo agora")
    expect(second.locator("#estimate")).to_contain_text("Espera estimada")

    # A refresh keeps the place.
    second.reload()
    expect(second.locator("#position")).to_have_text("2º")

    # The first is taken: the second's page shows position 1 within a second.
    pro.get_by_role("button", name="Atender próximo").click()
    taken = time.monotonic()
    expect(second.locator("#position")).to_have_text("1º", timeout=1000)
    print(f"\nposition update after take-next: {time.monotonic() - taken:.3f} s (limit 1 s)")
    expect(first).to_have_url(server.url + "/paciente/consulta")
    # A call that never connected would send Paula back to the head of the queue: end a real one.
    for page in (first, pro):
        expect(page.locator("#call-status")).to_have_text("Conectado.", timeout=20_000)
    pro.get_by_role("button", name="Encerrar atendimento").click()
    expect(pro).to_have_url(server.url + "/profissional")

    # The professional takes the second patient out of the queue, with a reason.
    pro.get_by_role("button", name="Retirar Sergio da fila").click()
    pro.get_by_label("O atendimento será feito por outro canal").check()
    pro.get_by_role("dialog").get_by_role("button", name="Retirar da fila").click()
    expect(second.get_by_role("alert")).to_have_text(
        "Você foi retirado da fila pela equipe: o atendimento será feito por outro canal."
    )
    expect(pro.locator("#waiting-count")).to_have_text("0")
    for ctx in (staff_ctx, first_ctx, second_ctx):
        ctx.close()
