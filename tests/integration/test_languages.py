"""Languages through the app: choosing and remembering one, every page in English, socket texts
in the page's language, dates in the reader's format."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from tests.integration.conftest import ClientMaker, post_form
from tests.integration.flows import approved_professional, make_admin, password_hash
from tests.integration.test_signaling import next_of, open_ws
from tests.languages import portuguese_in, visible_text
from tests.support import csrf_from, make_cpf
from web.keys import STORE, VISITS
from web.queue import State
from web.views.language import COOKIE

LANG = re.compile(r'<html lang="([^"]+)"')
# The English short date and time ("12/31/69, 9:00 PM") and the Brazilian one ("31/12/1969 21:00").
ENGLISH_TIME = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2}\s[AP]M\b")
BRAZILIAN_TIME = re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b")


async def choose_language(client: TestClient, lang: str, page: str = "/") -> Any:
    """Press the language switch on a page, as a person would."""
    html = await (await client.get(page)).text()
    back = re.search(r'name="next" value="([^"]*)"', html)
    assert back, "the page has no language switch"
    return await client.post(
        "/idioma",
        data={"csrf_token": csrf_from(html), "lang": lang, "next": back.group(1)},
        allow_redirects=False,
    )


def page_language(html: str) -> str:
    found = LANG.search(html)
    assert found, "no <html lang>"
    return found.group(1)


async def test_portuguese_by_default_and_the_browsers_language_when_we_have_it(
    client: TestClient,
) -> None:
    cases = {
        None: "pt-BR",
        "en-US,en;q=0.9": "en",
        "pt-PT,en;q=0.5": "pt-BR",  # any Portuguese reads the Brazilian texts
        "fr-FR,fr;q=0.9,en;q=0.8": "en",
        "de-DE,fr;q=0.5": "pt-BR",  # none of ours: the default
        "en;q=0,pt-BR": "pt-BR",  # q=0 means "not this one"
        "*": "pt-BR",
    }
    for header, expected in cases.items():
        resp = await client.get("/", headers={"Accept-Language": header} if header else {})
        assert page_language(await resp.text()) == expected, header
        assert resp.headers["Content-Language"] == expected


async def test_the_switch_remembers_the_choice(client: TestClient) -> None:
    html = await (await client.get("/paciente/entrar")).text()
    assert 'lang="en">English</button>' in html and "Português</button>" not in html
    resp = await choose_language(client, "en", "/paciente/entrar")
    assert resp.status == 303 and resp.headers["Location"] == "/paciente/entrar"
    cookie = resp.cookies[COOKIE]
    assert cookie.value == "en" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600
    # The browser says Portuguese, the choice wins; on every page, and after signing in.
    for page in ("/", "/paciente", "/profissional/entrar"):
        resp = await client.get(page, headers={"Accept-Language": "pt-BR"})
        html = await resp.text()
        assert page_language(html) == "en", page
        assert 'lang="pt-BR">Português</button>' in html
    await approved_professional(client)
    assert page_language(await (await client.get("/profissional")).text()) == "en"
    back = await choose_language(client, "pt-BR", "/profissional")
    assert back.headers["Location"] == "/profissional"
    assert page_language(await (await client.get("/profissional")).text()) == "pt-BR"


async def test_the_switch_is_a_form_like_any_other(client: TestClient) -> None:
    # No CSRF token, no change.
    resp = await client.post("/idioma", data={"lang": "en", "next": "/"}, allow_redirects=False)
    assert resp.status == 403 and COOKIE not in resp.cookies
    # Never back to another site; an unknown language changes nothing.
    token = csrf_from(await (await client.get("/")).text())
    for target in (
        "//evil.example/x",
        "https://evil.example/",
        "javascript:x",
        "\\\\x",
        "http://[x",
        "/%2Fevil.example",  # decodes to "//evil.example"
        "/%2F%2Fevil.example/x",
        "/%5Cevil.example",  # a backslash, which browsers read as "/"
    ):
        resp = await client.post(
            "/idioma",
            data={"csrf_token": token, "lang": "en", "next": target},
            allow_redirects=False,
        )
        assert resp.headers["Location"] == "/", target
    resp = await client.post(
        "/idioma", data={"csrf_token": token, "lang": "xx", "next": "/"}, allow_redirects=False
    )
    assert resp.status == 303 and COOKIE not in resp.cookies
    # A page that answered a form sends the switch back to the form's page.
    html = await (
        await client.post(
            "/paciente/cadastro",
            data={"csrf_token": token, "cpf": "1"},
            headers={"Referer": str(client.make_url("/paciente"))},
        )
    ).text()
    assert 'name="next" value="/paciente"' in html
    broken = await client.post(
        "/paciente/cadastro", data={"csrf_token": token}, headers={"Referer": "http://[x"}
    )
    assert broken.status == 422 and 'name="next" value="/"' in await broken.text()


class EnglishPages:
    """Pages read in English, each checked for Portuguese left over."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed  # people's names: data, not texts to translate
        self.problems: dict[str, list[str]] = {}
        self.count = 0

    async def read(self, who: str, resp: Any) -> str:
        html: str = await resp.text()
        where = f"{who} {resp.method} {resp.url.path_qs} ({resp.status})"
        self.count += 1
        if page_language(html) != "en":
            self.problems[where] = [f"<html lang={page_language(html)}>"]
        left = portuguese_in(visible_text(html), self.allowed)
        if left:
            self.problems.setdefault(where, []).extend(sorted(set(left)))
        return html

    async def get(self, who: str, client: TestClient, path: str) -> str:
        return await self.read(who, await client.get(path))

    async def post(self, who: str, client: TestClient, page: str, action: str, **data: str) -> str:
        return await self.read(who, await post_form(client, page, action, data))


async def test_every_page_reads_in_english(aiohttp_client: ClientMaker, client: TestClient) -> None:
    store, visits = client.app[STORE], client.app[VISITS]
    names = ("anonymous", "patient", "rated", "professional", "admin")
    clients = {name: await aiohttp_client(client.server) for name in names}
    for each in clients.values():
        await choose_language(each, "en")
    pages = EnglishPages(allowed=("Gestora Clínica",))
    anonymous, patient, rated = clients["anonymous"], clients["patient"], clients["rated"]
    pro, admin = clients["professional"], clients["admin"]
    await make_admin(admin)
    await approved_professional(pro)
    pending = store.create_staff(
        name="Caio Lima", email="caio@example.org", council="COREN", council_number="777",
        council_uf="SP", password_hash=password_hash("senha-muito-boa"), role="professional",
        status="pending",
    )  # fmt: skip

    # Forms answered with errors, a refused form, a missing page, notices.
    await pages.post("anonymous", anonymous, "/paciente", "/paciente/cadastro", cpf="123")
    await pages.post("anonymous", anonymous, "/paciente/entrar", "/paciente/entrar", cpf="1")
    await pages.post("anonymous", anonymous, "/profissional/cadastro", "/profissional/cadastro")
    await pages.post(
        "anonymous", anonymous, "/profissional/entrar", "/profissional/entrar",
        email="caio@example.org", password="senha-muito-boa",
    )  # fmt: skip
    await pages.read("anonymous", await anonymous.post("/paciente/cadastro", data={"cpf": "1"}))
    for path in ("/nao-existe", "/?aviso=saiu", "/paciente/obrigado?avaliado=0"):
        await pages.get("anonymous", anonymous, path)

    # A patient registers (the terms in English too), is taken, called, rates the visit.
    cpf = make_cpf(70001)
    await pages.post(
        "rated", rated, "/paciente", "/paciente/cadastro",
        cpf=cpf, full_name="Lucas Martins", birth_date="1950-03-02", phone="61999998888",
    )  # fmt: skip
    terms = await pages.get("rated", rated, "/paciente/termos")
    assert "Please read the terms of use" in terms and "English translation" in terms
    await pages.post("rated", rated, "/paciente/termos", "/paciente/termos", version="1")
    await post_form(
        rated, "/paciente/termos", "/paciente/termos",
        {"accept": "yes", "version": "1", "priority_gestante": "yes"},
    )  # fmt: skip
    await pages.get("rated", rated, "/paciente/fila?aviso=no_show")
    await pages.post("professional", pro, "/profissional", "/profissional/atender")
    ticket = store.active_ticket(store.patient_by_cpf(cpf).id)  # type: ignore[union-attr]
    assert ticket is not None
    store.move(ticket.id, State.IN_CALL)  # as when both browsers' media connect
    await pages.get("rated", rated, "/paciente/consulta")
    await pages.get("professional", pro, "/profissional/consulta")
    await visits.hang_up(ticket, "professional")
    await pages.get("professional", pro, "/profissional?aviso=lost")
    await pages.get("professional", pro, "/profissional?aviso=patient_hangup")
    await pages.get("professional", pro, "/profissional/senha")
    await pages.post(
        "professional", pro, "/profissional/senha", "/profissional/senha",
        current_password="wrong-one", password="short",
    )  # fmt: skip
    await pages.post("rated", rated, "/paciente/avaliacao", "/paciente/avaliacao", rating="9")
    thanks = await pages.post(
        "rated", rated, "/paciente/avaliacao", "/paciente/avaliacao",
        rating="4", comment="Very kind, thank you",
    )  # fmt: skip
    assert "Thank you for your rating!" in thanks

    # Another patient waits (with priority by age); the admin approves the pending professional.
    await pages.post(
        "patient", patient, "/paciente", "/paciente/cadastro",
        cpf=make_cpf(70002), full_name="Sara Lopes", birth_date="1940-01-01", phone="61999997777",
    )  # fmt: skip
    await pages.get("patient", patient, "/paciente/termos")
    await post_form(
        patient, "/paciente/termos", "/paciente/termos", {"accept": "yes", "version": "1"}
    )
    await pages.post(
        "admin", admin, "/admin", f"/admin/profissionais/{pending.id}/aprovar", next="/admin"
    )

    # Then every page the app has, as each of them (a route's {id} is one that exists).
    ids = {"staff_id": pending.id, "ticket_id": ticket.id, "patient_id": ticket.patient_id}
    paths = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method != "GET" or not path or path.startswith(("/static", "/ws", "/metrics")):
            continue
        for name, value in ids.items():
            path = path.replace("{" + name + "}", str(value))
        paths.append(path)
    for who, each in clients.items():
        for path in paths:
            resp = await each.get(path)
            if resp.content_type == "text/html":
                await pages.read(who, resp)
    assert pages.count > 60
    assert not pages.problems, "\n".join(f"{k}: {v}" for k, v in pages.problems.items())


async def test_the_portuguese_pages_are_caught_by_the_same_check(client: TestClient) -> None:
    html = await (await client.get("/paciente")).text()
    assert page_language(html) == "pt-BR"
    assert {"paciente", "Cadastro", "Continuar"} & set(portuguese_in(visible_text(html)))


async def test_dates_and_times_read_as_each_reader_writes_them(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    await make_admin(client)
    await post_form(
        await aiohttp_client(client.server), "/paciente", "/paciente/cadastro",
        {"cpf": make_cpf(70101), "full_name": "Rita Alves", "birth_date": "1990-01-01",
         "phone": "61999996666"},
    )  # fmt: skip
    store = client.app[STORE]
    patient = store.patient_by_cpf(make_cpf(70101))
    assert patient is not None
    store.record_consent(patient.id, "1")
    await client.app[VISITS].join(patient, [])
    brazilian = visible_text(await (await client.get("/admin/atendimentos")).text())
    assert BRAZILIAN_TIME.search(brazilian) and not ENGLISH_TIME.search(brazilian)
    await choose_language(client, "en", "/admin/atendimentos")
    english = visible_text(await (await client.get("/admin/atendimentos")).text())
    assert ENGLISH_TIME.search(english) and not BRAZILIAN_TIME.search(english)


async def test_socket_texts_come_in_the_pages_language(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    from tests.integration.flows import register_patient

    english, brazilian, pro = client, await aiohttp_client(client.server), None
    await choose_language(english, "en")
    await register_patient(english, 70201, name="Paula Reis", born="1940-02-02")
    await register_patient(brazilian, 70202, name="Bruno Reis")
    en_ws, pt_ws = await open_ws(english, "patient"), await open_ws(brazilian, "patient")
    assert (await next_of(en_ws, "queue"))["estimate"].startswith("No professional is available")
    assert (await next_of(pt_ws, "queue"))["estimate"].startswith("Nenhum profissional")
    for ws, expected in ((en_ws, "Invalid message (not JSON)."), (pt_ws, "Mensagem inválida")):
        await ws.send_str("not json")
        assert (await next_of(ws, "error"))["message"].startswith(expected)
    # The professional's list, in English: the priority and the device test summary.
    pro = await aiohttp_client(client.server)
    await choose_language(pro, "en")
    await approved_professional(pro)
    pro_ws = await open_ws(pro, "professional")
    listing = (await next_of(pro_ws, "waiting_list"))["patients"]
    assert [(p["first_name"], p["priority"], p["device"]) for p in listing] == [
        ("Paula", "80 years or older", "not tested"),
        ("Bruno", "", "not tested"),
    ]
    # A removal's reason reaches the patient in the patient's language.
    await pro_ws.send_json({"type": "remove", "ticket": listing[1]["ticket"], "reason": "pedido"})
    removed = await next_of(pt_ws, "removed")
    assert (
        removed["message"] == "Você foi retirado da fila pela equipe: a pedido do próprio paciente."
    )
    await pro_ws.send_json({"type": "remove", "ticket": listing[0]["ticket"], "reason": "pedido"})
    removed = await next_of(en_ws, "removed")
    assert removed["message"] == "The team took you out of the queue: at the patient's own request."


async def test_every_dashboard_gets_the_pushed_list_in_its_own_language(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    from tests.integration.flows import register_patient

    dashboards = []
    for language, email in (
        ("en", "ana@example.org"),
        ("pt-BR", "bia@example.org"),
        ("en", "cid@example.org"),
    ):
        pro = await aiohttp_client(client.server)
        await choose_language(pro, language)
        await approved_professional(pro, email=email)
        ws = await open_ws(pro, "professional")
        assert (await next_of(ws, "waiting_list"))["patients"] == []
        dashboards.append(ws)
    await register_patient(client, 70211, name="Paula Reis", born="1940-02-02")  # pushed to all

    async def listed(ws: ClientWebSocketResponse) -> list[dict[str, Any]]:
        while not (patients := (await next_of(ws, "waiting_list"))["patients"]):
            pass  # a list pushed before the patient came (another dashboard opened)
        return patients

    labels = [(await listed(ws))[0]["priority"] for ws in dashboards]
    assert labels == ["80 years or older", "80 anos ou mais", "80 years or older"]


async def test_the_visits_say_how_each_ended_in_words(
    aiohttp_client: ClientMaker, client: TestClient
) -> None:
    from tests.integration.flows import register_patient
    from tests.integration.records import end_visit

    store = client.app[STORE]
    patient = await aiohttp_client(client.server)
    cpf = await register_patient(patient, 70301, name="Rita Alves")
    await make_admin(client)
    staff = store.staff_by_email("gestao@example.org")
    assert staff is not None
    ticket = end_visit(store, cpf, staff.id)  # ended by the professional
    brazilian = visible_text(await (await client.get("/admin/atendimentos")).text())
    assert "Encerrado (o profissional desligou)" in brazilian
    record = visible_text(await (await client.get(f"/admin/atendimentos/{ticket}")).text())
    assert "Encerrado (o profissional desligou)" in record
    await choose_language(client, "en", "/admin/atendimentos")
    english = visible_text(await (await client.get("/admin/atendimentos")).text())
    assert "Ended (the professional hung up)" in english and "professional_hangup" not in english
