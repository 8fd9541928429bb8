import sqlite3

from aiohttp.test_utils import TestClient

from tests.integration.conftest import post_form
from tests.integration.flows import register_patient
from tests.support import make_cpf
from web.config import Config


async def test_home_offers_both_doors(client: TestClient) -> None:
    html = await (await client.get("/")).text()
    assert "Sou paciente" in html
    assert "Sou profissional de saúde" in html


async def test_security_headers(client: TestClient) -> None:
    resp = await client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_invalid_cpf_and_missing_fields_show_next_to_the_field(client: TestClient) -> None:
    resp = await post_form(
        client,
        "/paciente",
        "/paciente/cadastro",
        {"cpf": "123.456.789-00", "full_name": "", "birth_date": "", "phone": ""},
    )
    assert resp.status == 422
    html = await resp.text()
    assert 'id="cpf-error">CPF inválido. Confira os 11 números.' in html
    assert 'id="full_name-error">Informe o seu nome completo.' in html
    assert 'id="birth_date-error">Informe a sua data de nascimento.' in html
    assert 'id="phone-error">Informe um telefone ou um e-mail para contato.' in html
    assert 'value="123.456.789-00"' in html  # what was typed is kept


async def test_post_without_csrf_is_refused(client: TestClient) -> None:
    resp = await client.post("/paciente/cadastro", data={"cpf": make_cpf(5)})
    assert resp.status == 403
    assert "A página expirou" in await resp.text()


async def test_existing_cpf_leads_to_lookup(client: TestClient) -> None:
    cpf = await register_patient(client, 11)
    client.session.cookie_jar.clear()
    resp = await post_form(
        client,
        "/paciente",
        "/paciente/cadastro",
        {
            "cpf": cpf,
            "full_name": "Outra Pessoa",
            "birth_date": "1990-05-17",
            "phone": "61999998888",
        },
    )
    html = await resp.text()
    assert "Este CPF já está cadastrado" in html
    assert 'action="/paciente/entrar"' in html
    assert 'value="1990-05-17"' in html  # what they typed stays: one click to sign in


async def test_lookup_finds_the_same_ticket(client: TestClient, config: Config) -> None:
    cpf = await register_patient(client, 12)
    client.session.cookie_jar.clear()
    wrong = await post_form(
        client, "/paciente/entrar", "/paciente/entrar", {"cpf": cpf, "birth_date": "1990-05-18"}
    )
    assert wrong.status == 422
    assert "não conferem" in await wrong.text()
    right = await post_form(
        client, "/paciente/entrar", "/paciente/entrar", {"cpf": cpf, "birth_date": "1990-05-17"}
    )
    assert right.url.path == "/paciente/fila"
    with sqlite3.connect(config.database_path) as db:
        assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


async def test_terms_must_be_accepted_and_consent_is_recorded(
    client: TestClient, config: Config
) -> None:
    resp = await post_form(
        client,
        "/paciente",
        "/paciente/cadastro",
        {"cpf": make_cpf(13), "full_name": "João Pereira", "birth_date": "1980-01-02",
         "email": "joao@example.org"},
    )  # fmt: skip
    assert "Teste de câmera e microfone" in await resp.text()  # next: the device test
    terms = await (await client.get("/paciente/termos")).text()
    assert "Leia os termos de uso" in terms
    assert "Resolução CFM nº 2.314/2022" in terms
    refused = await post_form(client, "/paciente/termos", "/paciente/termos", {"version": "1"})
    assert refused.status == 422
    assert "marque que você leu e aceita" in await refused.text()
    accepted = await post_form(
        client, "/paciente/termos", "/paciente/termos", {"accept": "yes", "version": "1"}
    )
    assert accepted.url.path == "/paciente/fila"
    with sqlite3.connect(config.database_path) as db:
        version, at = db.execute("SELECT terms_version, accepted_at FROM consents").fetchone()
    assert version == "1" and at > 0


async def test_pages_need_a_patient(client: TestClient) -> None:
    for path in ("/paciente/termos", "/paciente/fila", "/paciente/consulta", "/paciente/avaliacao"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"] == "/paciente/entrar"


async def test_unknown_page_is_friendly(client: TestClient) -> None:
    resp = await client.get("/nada")
    assert resp.status == 404
    assert "Página não encontrada." in await resp.text()
