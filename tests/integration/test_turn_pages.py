"""TURN credentials reach the pages that open a WebRTC connection; the secret never does."""

import base64
import hashlib
import hmac
import html
import json
import re
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ClientMaker, post_form
from tests.support import make_config, make_cpf
from web.app import create_app
from web.config import ConfigError

SECRET = "a-turn-secret-shared-with-coturn"


def _attribute(page: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', page)
    assert match, f"page has no {name}"
    return html.unescape(match.group(1))


async def test_the_device_test_page_gets_fresh_credentials_and_the_policy(
    aiohttp_client: ClientMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATENDE_TEST_TURN_SECRET", SECRET)
    ice = {
        "turn_urls": ["turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp"],
        "turn_secret_env": "ATENDE_TEST_TURN_SECRET",
        "turn_ttl_seconds": 600,
        "transport_policy": "relay",
    }
    client = await aiohttp_client(create_app(make_config(tmp_path, ice=ice)))
    resp = await post_form(
        client,
        "/paciente",
        "/paciente/cadastro",
        {"cpf": make_cpf(4242), "full_name": "Lia Prado", "birth_date": "1990-05-17",
         "phone": "61999998888"},
    )  # fmt: skip
    assert resp.url.path == "/paciente/teste"
    page = await resp.text()
    assert SECRET not in page
    assert _attribute(page, "data-ice-transport-policy") == "relay"
    (server,) = json.loads(_attribute(page, "data-ice-servers"))
    assert server["urls"] == ice["turn_urls"]
    expiry, user = server["username"].split(":")
    assert abs(int(expiry) - (time.time() + 600)) < 30
    assert "Lia" not in user and make_cpf(4242) not in user
    digest = hmac.new(SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(digest).decode()

    again = json.loads(
        _attribute(await (await client.get("/paciente/teste")).text(), "data-ice-servers")
    )
    assert again[0]["username"] != server["username"]  # every page its own


def test_start_up_stops_without_a_usable_turn_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATENDE_TEST_TURN_SECRET", raising=False)
    ice = {"turn_urls": ["turn:127.0.0.1:3478"], "turn_secret_env": "ATENDE_TEST_TURN_SECRET"}
    with pytest.raises(ConfigError, match=r"^ice\.turn_secret_env: .*ATENDE_TEST_TURN_SECRET"):
        create_app(make_config(tmp_path, ice=ice))
    secret_file = tmp_path / "turn.secret"
    secret_file.write_text("short\n")
    ice["turn_secret_file"] = str(secret_file)
    with pytest.raises(ConfigError, match=r"^ice\.turn_secret_file: .*at least 16 characters"):
        create_app(make_config(tmp_path, ice=ice))
    secret_file.write_text(SECRET + "\n")
    create_app(make_config(tmp_path, ice=ice))  # read from the file
