"""What a person does on the pages, for the browser tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server
from tests.support import ROOT, make_cpf
from web.i18n import translations


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


def register_professional(
    page: Page,
    server: Server,
    name: str = "Ana Beatriz Souza",
    email: str = "ana.souza@clinica.example",
    council: tuple[str, str, str] = ("CRM", "123456", "DF"),
    password: str = "senha-da-ana-123",
) -> None:
    """Fill in the professional's registration; an admin's approval follows."""
    page.goto(server.url + "/profissional/cadastro")
    page.get_by_label("Nome completo").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Conselho").select_option(council[0])
    page.get_by_label("Número").fill(council[1])
    page.get_by_label("UF").select_option(council[2])
    page.get_by_label("Senha (mínimo 10 caracteres)").fill(password)
    page.get_by_label("Repita a senha").fill(password)
    page.get_by_role("button", name="Enviar cadastro").click()
    expect(page.get_by_role("heading", name="Cadastro recebido")).to_be_visible()


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


# Accessibility: axe-core, the keyboard, a phone's screen.

# axe-core, vendored from the npm registry (static/vendor/axe-core-<version>/, with its licence).
# Playwright's add_script_tag(path=...) inserts an inline <script>, which the pages' policy
# (script-src 'self') refuses; page.evaluate runs the source through the DevTools protocol,
# which the policy does not govern, so the pages are checked under their real headers.
(AXE_SCRIPT,) = (ROOT / "static" / "vendor").glob("axe-core-*/axe.min.js")

AXE_RUN = """
async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "), html: n.html, summary: n.failureSummary,
    })),
  }));
}
"""
SERIOUS = ("serious", "critical")
NO_TRANSITIONS = "() => document.getAnimations().every((a) => a.playState !== 'running')"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every rule axe-core finds broken on the page as it is now (once transitions ended)."""
    page.wait_for_function(NO_TRANSITIONS)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text())
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}: {node['html'][:200]}")
            lines += [f"      {line}" for line in (node["summary"] or "").splitlines()]
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    violations = axe_violations(page)
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"{what} ({page.url}):\n{describe_violations(serious)}"
    if violations:  # moderate and minor ones are reported, not failed
        print(f"\naxe, {what}:\n{describe_violations(violations)}")


def in_language(code: str) -> Callable[[str], str]:
    """t(text): what a page in the language `code` ("pt_BR", "en") shows for a Portuguese text."""
    return translations(code).gettext


PageCheck = Callable[[Page, str], None]


def visit_patient_pages(
    patient: Page,
    pro: Page,
    server: Server,
    seed: int,
    name: str,
    check: PageCheck,
    check_staff: PageCheck | None = None,
    language: str = "pt_BR",
) -> None:
    """Every page of a patient's visit, with check(page, what) on each as a person sees it: home,
    registration and look-up (also with their errors), the device test's results, the terms (also
    with their error), the queue, the call, the rating (also with its error), thanks, the
    patient's own data (also after asking for erasure) and the refusal page. The admin attends on
    `pro`: check_staff sees the list with the patient waiting, its removal dialog and the call.
    The patient's page is in `language`; the admin's in Portuguese."""
    t = in_language(language)
    first_name = name.split()[0]
    open_dashboard_as_admin(pro, server)
    patient.goto(server.url + "/")
    check(patient, "home")
    patient.get_by_role("link", name=t("Sou paciente")).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(t("Cadastro do paciente"))
    check(patient, "registration")
    patient.get_by_role("button", name=t("Continuar")).click()
    expect(patient.locator("#cpf-error")).to_have_text(t("Informe o seu CPF."))
    check(patient, "registration with errors")
    patient.get_by_role("link", name=t("Entre com CPF e data de nascimento")).click()
    check(patient, "look-up")
    patient.get_by_label(t("CPF")).fill("123")
    patient.get_by_role("button", name=t("Entrar")).click()
    expect(patient.locator("#cpf-error")).to_have_text(t("CPF inválido. Confira os 11 números."))
    check(patient, "look-up with errors")

    patient.get_by_role("link", name=t("Primeira vez? Faça o seu cadastro")).click()
    patient.get_by_label(t("CPF")).fill(make_cpf(seed))
    patient.get_by_label(t("Nome completo")).fill(name)
    patient.get_by_label(t("Data de nascimento")).fill("1985-07-21")
    patient.get_by_label(t("Telefone (com DDD)")).fill("(61) 98888-7777")
    patient.get_by_role("button", name=t("Continuar")).click()
    expect(patient.locator("#test-status")).to_have_text(t("Teste concluído."), timeout=40_000)
    check(patient, "device test")
    patient.get_by_role("link", name=t("Pular o teste")).click()
    expect(patient.locator("#accept")).to_be_visible()
    check(patient, "terms")
    patient.get_by_role("button", name=t("Aceitar e entrar na fila")).click()
    expect(patient.get_by_role("alert")).to_be_visible()
    check(patient, "terms with error")
    patient.locator("#accept").check()
    patient.get_by_role("button", name=t("Aceitar e entrar na fila")).click()
    expect(patient.locator("#position")).to_have_text(t("%(position)sº") % {"position": 1})
    check(patient, "queue")

    expect(pro.locator("#waiting-list")).to_contain_text(first_name)
    if check_staff:
        check_staff(pro, "professional's list with a patient waiting")
        pro.get_by_role("button", name=f"Retirar {first_name} da fila").click()
        expect(pro.get_by_role("dialog")).to_be_visible()
        check_staff(pro, "removal dialog")
        pro.get_by_role("dialog").get_by_role("button", name="Cancelar").click()
        expect(pro.get_by_role("dialog")).to_be_hidden()
    pro.get_by_role("button", name="Atender próximo").click()
    expect(patient).to_have_url(server.url + "/paciente/consulta", timeout=10_000)
    expect(patient.locator("#call-status")).to_have_text(t("Conectado."), timeout=20_000)
    expect(pro.locator("#call-status")).to_have_text("Conectado.", timeout=20_000)
    check(patient, "call")
    if check_staff:
        check_staff(pro, "professional's call page")
    end_call(pro, patient, server)

    check(patient, "rating")
    patient.get_by_role("button", name=t("Enviar avaliação")).click()
    expect(patient.get_by_role("alert")).to_have_text(t("Escolha de 1 a 5 estrelas."))
    check(patient, "rating with error")
    patient.locator("label[for=rating-4]").click()
    patient.get_by_label(t("Comentário (opcional)")).fill("Bom atendimento")
    patient.get_by_role("button", name=t("Enviar avaliação")).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(t("Obrigado pela sua avaliação!"))
    check(patient, "thanks")

    patient.get_by_role("link", name=t("Meus dados")).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(t("Meus dados"))
    check(patient, "own data")
    patient.get_by_label(t("Entendi o que será apagado e quero pedir a exclusão")).check()
    patient.get_by_role("button", name=t("Pedir a exclusão")).click()
    expect(patient.get_by_role("status")).to_be_visible()
    check(patient, "own data, erasure asked")
    patient.get_by_role("link", name=t("Ir para o atendimento")).click()
    patient.get_by_role("link", name=t("Pular o teste")).click()
    patient.get_by_role("button", name=t("Não aceito os termos")).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(
        t("Você não aceitou os termos de uso")
    )
    check(patient, "refusal")


# The focused element and whether a person sees where the focus is: an outline or a focus
# shadow on it, drawn on a box that is shown. A visually hidden radio (the rating's .btn-check)
# shows its focus on its label, the visible button.
FOCUS = """
(target) => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const shown = el.matches(".btn-check") && el.labels.length ? el.labels[0] : el;
  const style = getComputedStyle(shown);
  const box = shown.getBoundingClientRect();
  return {
    isTarget: el === target,
    html: el.outerHTML.slice(0, 160),
    visible: box.width > 1 && box.height > 1 && style.visibility !== "hidden"
      && ((style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
          || style.boxShadow !== "none"),
  };
}
"""


def assert_focus_visible(page: Page, target: Locator | None = None) -> bool:
    """The focus is on a control of the page and shows; returns whether it is on `target`."""
    handle = target.element_handle() if target is not None else None
    page.wait_for_function(NO_TRANSITIONS)  # a focus shadow fading in or out is not the answer
    focus = page.evaluate(FOCUS, handle)
    assert focus is not None, "the focus left the page's controls"
    assert focus["visible"], f"no visible focus on {focus['html']}"
    return bool(focus["isTarget"])


def tab_to(page: Page, target: Locator, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (Shift+Tab backwards) until `target` has the focus; the focus shows at every
    stop on the way."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if assert_focus_visible(page, target):
            return
    raise AssertionError(f"{key} did not reach {target} in {limit} presses")


# The parts of a date field (spin buttons in the accessibility tree) by their largest value.
DATE_PARTS = {12: "%m", 31: "%d", 275760: "%Y"}


def type_date(page: Page, label: str, day: date) -> None:
    """Type a date into the focused date field, its parts in the order the field shows them: the
    browser's own language decides (month/day/year in American English), not the page's."""
    cdp = page.context.new_cdp_session(page)
    nodes = {n["nodeId"]: n for n in cdp.send("Accessibility.getFullAXTree")["nodes"]}
    cdp.detach()
    (field,) = (
        n
        for n in nodes.values()
        if n.get("role", {}).get("value") == "Date" and n.get("name", {}).get("value") == label
    )
    parts: list[str] = []
    pending = list(reversed(field.get("childIds", [])))
    while pending:  # the field's descendants, in order
        node = nodes[pending.pop()]
        props = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
        if node.get("role", {}).get("value") == "spinbutton":
            parts.append(DATE_PARTS[props["valuemax"]])
        pending += reversed(node.get("childIds", []))
    assert sorted(parts) == sorted(DATE_PARTS.values()), parts
    page.keyboard.type("".join(day.strftime(part) for part in parts))


PHONE = {"width": 375, "height": 667}
PHONE_CONTEXT: dict[str, Any] = {
    "viewport": PHONE,
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# Controls (and videos) that stick out of the screen's width; labels too, since the rating's
# stars are labels drawn as buttons. Left out: what is not shown (no box) and what is visually
# hidden for screen readers (a 1 px box, or clipped away).
CUT_OFF = """
() => {
  const width = window.innerWidth;
  const cut = [];
  const controls = "a[href], button, input, select, textarea, label, video, [tabindex]";
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") continue;
    if (style.clip === "rect(0px, 0px, 0px, 0px)") continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      cut.push(`${el.outerHTML.slice(0, 120)}: from ${box.left} to ${box.right}`);
    }
  }
  return { width, scrollWidth: document.documentElement.scrollWidth, cut };
}
"""


def assert_fits_width(page: Page, what: str) -> None:
    """Nothing to press or watch is cut off at the sides, and the page does not scroll sideways."""
    layout = page.evaluate(CUT_OFF)
    width = PHONE["width"]
    assert layout["width"] == width, f"{what}: the page is laid out {layout['width']} px wide"
    assert not layout["cut"], f"{what}: cut off at {width} px:\n" + "\n".join(layout["cut"])
    assert layout["scrollWidth"] <= width, f"{what}: scrolls sideways ({layout['scrollWidth']} px)"
