from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from tests.integration.conftest import post_form
from tests.integration.flows import approved_professional, register_patient
from tests.integration.test_signaling import next_of, open_ws
from web.accounts import hash_password
from web.keys import STORE

GOOD = {
    "name": "Carlos Lima",
    "email": "carlos@example.org",
    "council": "COREN",
    "council_number": "998877",
    "council_uf": "SP",
    "password": "uma-senha-boa",
    "password_confirm": "uma-senha-boa",
}


async def test_registration_validates_and_waits_for_approval(client: TestClient) -> None:
    bad = await post_form(
        client, "/profissional/cadastro", "/profissional/cadastro", GOOD | {"password": "curta"}
    )
    assert bad.status == 422
    html = await bad.text()
    assert "pelo menos 10 caracteres" in html
    assert "curta" not in html  # passwords are never echoed back
    ok = await post_form(client, "/profissional/cadastro", "/profissional/cadastro", GOOD)
    assert "Cadastro recebido" in await ok.text()
    staff = client.app[STORE].staff_by_email("carlos@example.org")
    assert staff is not None and staff.status == "pending"
    assert staff.password_hash.startswith("$argon2id$")
    pending = await post_form(
        client,
        "/profissional/entrar",
        "/profissional/entrar",
        {"email": GOOD["email"], "password": GOOD["password"]},
    )
    assert "aguarda a aprovação" in await pending.text()


async def test_wrong_password(client: TestClient) -> None:
    await approved_professional(client)
    client.session.cookie_jar.clear()
    resp = await post_form(
        client,
        "/profissional/entrar",
        "/profissional/entrar",
        {"email": "ana@example.org", "password": "errada-errada"},
    )
    assert resp.status == 401
    assert "E-mail ou senha incorretos." in await resp.text()


async def test_admin_approves_a_professional(client: TestClient) -> None:
    store = client.app[STORE]
    store.create_staff(
        name="Admin", email="admin@example.org", password_hash=hash_password("senha-do-admin"),
        role="admin", status="approved",
    )  # fmt: skip
    await post_form(client, "/profissional/cadastro", "/profissional/cadastro", GOOD)
    resp = await post_form(
        client,
        "/profissional/entrar",
        "/profissional/entrar",
        {"email": "admin@example.org", "password": "senha-do-admin"},
    )
    assert resp.url.path == "/admin"
    assert "Carlos Lima" in await resp.text()
    staff = store.staff_by_email(GOOD["email"])
    assert staff is not None
    resp = await post_form(client, "/admin", f"/admin/profissionais/{staff.id}/aprovar", {})
    assert "Nenhum cadastro pendente." in await resp.text()
    approved = store.staff(staff.id)
    assert approved is not None and approved.status == "approved"


async def test_professional_cannot_open_admin(client: TestClient) -> None:
    await approved_professional(client)
    resp = await client.get("/admin")
    assert resp.status == 403


async def test_take_next_with_nobody_waiting(client: TestClient) -> None:
    await approved_professional(client)
    resp = await post_form(client, "/profissional", "/profissional/atender", {})
    assert resp.url.path == "/profissional"
    assert "Não há ninguém aguardando no momento." in await resp.text()


async def test_take_next_opens_the_call_page(aiohttp_client, client: TestClient) -> None:
    patient = await aiohttp_client(client.server)
    await register_patient(patient, 21)
    await approved_professional(client)
    resp = await post_form(client, "/profissional", "/profissional/atender", {})
    assert resp.url.path == "/profissional/consulta"
    html = await resp.text()
    assert "Encerrar atendimento" in html
    assert "Maria da Silva" in html
    # A double click changes nothing: the same call page, nobody else taken.
    again = await post_form(client, "/profissional/consulta", "/profissional/atender", {})
    assert again.url.path == "/profissional/consulta"


async def test_a_professional_changes_their_own_password(
    aiohttp_client, client: TestClient
) -> None:
    await approved_professional(client)
    elsewhere = await aiohttp_client(client.server)  # the same person on another device
    await post_form(elsewhere, "/profissional/entrar", "/profissional/entrar",
                    {"email": "ana@example.org", "password": "senha-muito-boa"})  # fmt: skip
    assert (await elsewhere.get("/profissional", allow_redirects=False)).status == 200
    here_ws = await open_ws(client, "professional")  # a list open in another tab, here
    there_ws = await open_ws(elsewhere, "professional")

    wrong = await post_form(client, "/profissional/senha", "/profissional/senha", {
        "current_password": "chute-errado", "password": "curta", "password_confirm": "curta",
    })  # fmt: skip
    assert wrong.status == 422
    html = await wrong.text()
    assert "Senha atual incorreta." in html and "pelo menos 10 caracteres" in html
    mismatch = await post_form(client, "/profissional/senha", "/profissional/senha", {
        "current_password": "senha-muito-boa", "password": "nova-senha-boa",
        "password_confirm": "nova-senha-bo",
    })  # fmt: skip
    assert "As senhas não são iguais." in await mismatch.text()

    done = await post_form(client, "/profissional/senha", "/profissional/senha", {
        "current_password": "senha-muito-boa", "password": "nova-senha-boa",
        "password_confirm": "nova-senha-boa",
    })  # fmt: skip
    assert done.url.path == "/profissional"  # this session goes on
    assert "Senha alterada. Suas outras sessões foram encerradas." in await done.text()
    assert (await elsewhere.get("/profissional", allow_redirects=False)).status == 303
    closed = await there_ws.receive(timeout=5)
    while closed.type is WSMsgType.TEXT:  # what was sent before (hello, the list)
        closed = await there_ws.receive(timeout=5)
    assert (closed.type, closed.data) == (WSMsgType.CLOSE, 4001)  # signed out there
    await here_ws.send_json({"type": "availability", "available": False})  # this tab goes on
    assert (await next_of(here_ws, "availability"))["available"] is False
    client.session.cookie_jar.clear()
    old = await post_form(client, "/profissional/entrar", "/profissional/entrar",
                          {"email": "ana@example.org", "password": "senha-muito-boa"})  # fmt: skip
    assert old.status == 401
    new = await post_form(client, "/profissional/entrar", "/profissional/entrar",
                          {"email": "ana@example.org", "password": "nova-senha-boa"})  # fmt: skip
    assert new.url.path == "/profissional"
