import base64
import hashlib
import hmac

import pytest

from web.turn import TurnRest, rest_credentials

SECRET = b"clinic-turn-secret"


def test_known_answer() -> None:
    # `printf 1700000000:a1b2c3d4 | openssl dgst -sha1 -hmac clinic-turn-secret -binary | base64`
    creds = rest_credentials(SECRET, 1_700_000_000, "a1b2c3d4")
    assert creds.username == "1700000000:a1b2c3d4"
    assert creds.credential == "dT4szLbwgY0vFIxP+YWalQxzmAw="


def test_another_secret_or_expiry_gives_another_password() -> None:
    base = rest_credentials(SECRET, 1_700_000_000, "a1b2c3d4").credential
    assert rest_credentials(b"another-secret-value", 1_700_000_000, "a1b2c3d4").credential != base
    assert rest_credentials(SECRET, 1_700_000_001, "a1b2c3d4").credential != base


def test_a_colon_in_the_user_part_is_refused() -> None:
    # coturn takes the text before the first ':' as the expiry time
    with pytest.raises(ValueError, match="must not contain ':'"):
        rest_credentials(SECRET, 1_700_000_000, "12:34")


def test_each_page_gets_credentials_of_its_own_valid_for_the_ttl() -> None:
    turn = TurnRest(("turn:127.0.0.1:3478", "turns:turn.example.org:443"), SECRET, 3600)
    first = turn.ice_server(now=1_700_000_000.7)
    second = turn.ice_server(now=1_700_000_000.7)
    assert first["urls"] == ["turn:127.0.0.1:3478", "turns:turn.example.org:443"]
    expiry, user = str(first["username"]).split(":")
    assert int(expiry) == 1_700_003_600
    assert len(user) == 16 and user != str(second["username"]).split(":")[1]
    digest = hmac.new(SECRET, str(first["username"]).encode(), hashlib.sha1).digest()
    assert first["credential"] == base64.b64encode(digest).decode()
    assert SECRET.decode() not in repr(first)
