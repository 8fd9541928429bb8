"""Walk the pages like a person would, for the integration tests."""

from __future__ import annotations

from functools import cache

from aiohttp.test_utils import TestClient

from tests.integration.conftest import post_form
from tests.support import make_cpf
from web.accounts import hash_password
from web.keys import STORE


async def register_patient(
    client: TestClient, seed: int, name: str = "Maria da Silva", born: str = "1990-05-17"
) -> str:
    """Register, accept the terms: the patient is then waiting. Returns the CPF."""
    cpf = make_cpf(seed)
    resp = await post_form(
        client,
        "/paciente",
        "/paciente/cadastro",
        {"cpf": cpf, "full_name": name, "birth_date": born, "phone": "61999998888"},
    )
    assert resp.url.path == "/paciente/teste", await resp.text()  # the device test is skipped
    resp = await post_form(
        client, "/paciente/termos", "/paciente/termos", {"accept": "yes", "version": "1"}
    )
    assert resp.url.path == "/paciente/fila"
    return cpf


@cache
def password_hash(password: str) -> str:
    """argon2 hash of password, made once per test run."""
    return hash_password(password)


async def approved_professional(
    client: TestClient, email: str = "ana@example.org", password: str = "senha-muito-boa"
) -> None:
    """An approved professional, logged in on this client."""
    client.app[STORE].create_staff(
        name="Ana Souza",
        email=email,
        council="CRM",
        council_number="12345",
        council_uf="DF",
        password_hash=password_hash(password),
        role="professional",
        status="approved",
    )
    resp = await post_form(
        client,
        "/profissional/entrar",
        "/profissional/entrar",
        {"email": email, "password": password},
    )
    assert resp.url.path == "/profissional"


async def make_admin(client: TestClient) -> None:
    client.app[STORE].create_staff(
        name="Gestora Clínica", email="gestao@example.org",
        password_hash=password_hash("senha-da-gestora"), role="admin", status="approved",
    )  # fmt: skip
    resp = await post_form(
        client, "/profissional/entrar", "/profissional/entrar",
        {"email": "gestao@example.org", "password": "senha-da-gestora"},
    )  # fmt: skip
    assert resp.url.path == "/admin"
