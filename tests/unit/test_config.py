import subprocess
import sys
from pathlib import Path

import pytest

from relay.config import RelayConfig
from tests.support import ROOT, config_dict, make_config
from web.config import ConfigError, load_config, parse_config


def test_shipped_config_loads() -> None:
    config = load_config(ROOT / "config.toml")
    assert config.server.host == "127.0.0.1"
    assert config.path(config.terms.file).is_file()
    assert config.ice.servers == []


def _error_for(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, ROOT)
    return str(info.value)


def test_missing_key_is_named() -> None:
    data = config_dict()
    del data["database"]["path"]
    assert _error_for(data) == "database.path: missing setting"


def test_missing_section_is_named() -> None:
    data = config_dict()
    del data["queue"]
    assert _error_for(data) == "queue: missing setting"


def test_wrong_type_is_named() -> None:
    data = config_dict()
    data["server"]["port"] = "8080"
    assert _error_for(data).startswith("server.port: expected a whole number")


def test_unknown_key_is_named() -> None:
    data = config_dict()
    data["server"]["prot"] = 1
    assert _error_for(data) == "server.prot: unknown setting"


def test_invalid_values_are_named() -> None:
    data = config_dict()
    data["ice"]["servers"] = [{"urls": ["http://example.org"]}]
    assert _error_for(data).startswith("ice.servers[0].urls: not a STUN/TURN URL")
    data = config_dict()
    data["terms"]["file"] = "terms/nope.txt"
    assert _error_for(data) == "terms.file: no such file: terms/nope.txt"


def test_relay_silence_timeout_is_bounded() -> None:
    for seconds in (4, 31):
        data = config_dict()
        data["relay"]["silence_timeout_seconds"] = seconds
        assert _error_for(data) == "relay.silence_timeout_seconds: must be between 5 and 30"
    shipped = parse_config(config_dict(), ROOT).relay.silence_timeout_seconds
    assert shipped == RelayConfig().silence_timeout_seconds == 15


def test_start_up_stops_with_the_key_named(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text().replace("port = 8080", 'port = "x"')
    bad = tmp_path / "config.toml"
    bad.write_text(text)
    (tmp_path / "terms").mkdir()
    (tmp_path / "terms" / "termos-de-uso-v1.txt").write_text("Termos")
    result = subprocess.run(
        [sys.executable, "-m", "web", "--config", str(bad), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "server.port: expected a whole number" in result.stderr


def test_turn_and_tls_settings_are_checked() -> None:
    def ice(**values: object) -> str:
        data = config_dict()
        data["ice"].update(values)
        return _error_for(data)

    assert ice(turn_urls=["stun:127.0.0.1:3478"]) == (
        "ice.turn_urls: not a TURN URL: stun:127.0.0.1:3478"
    )
    assert ice(turn_urls=["turn:127.0.0.1"], turn_secret_env="").startswith(
        "ice.turn_secret_file: ice.turn_urls needs the TURN secret"
    )
    assert ice(turn_ttl_seconds=10) == "ice.turn_ttl_seconds: must be between 60 and 604800"
    assert ice(transport_policy="tcp") == 'ice.transport_policy: must be "all" or "relay"'
    assert ice(transport_policy="relay") == (
        'ice.transport_policy: "relay" needs a TURN server in ice.turn_urls or ice.servers'
    )
    data = config_dict()
    data["server"]["tls_cert"] = "config.toml"
    assert _error_for(data) == (
        "server.tls_key: set both server.tls_cert and server.tls_key, or neither"
    )
    data["server"]["tls_key"] = "data/none.pem"
    assert _error_for(data) == "server.tls_key: no such file: data/none.pem"


def test_relay_policy_with_a_turn_server_loads() -> None:
    data = config_dict()
    data["ice"].update(turn_urls=["turn:127.0.0.1:3478"], transport_policy="relay")
    config = parse_config(data, ROOT)
    assert config.ice.transport_policy == "relay"
    assert not config.tls


def test_privacy_retention_is_checked() -> None:
    data = config_dict()
    del data["privacy"]["retention_days"]
    assert _error_for(data) == "privacy.retention_days: missing setting"
    for days in (-1, 36501):
        data = config_dict()
        data["privacy"]["retention_days"] = days
        assert _error_for(data) == "privacy.retention_days: must be between 0 (off) and 36500"
    data = config_dict()
    data["privacy"]["retention_days"] = "30"
    assert _error_for(data).startswith("privacy.retention_days: expected a whole number")
    assert parse_config(config_dict(), ROOT).privacy.retention_days == 730


@pytest.mark.parametrize(
    ("limits", "key"),
    [
        ({"message_bytes": 1000}, "limits.message_bytes"),
        ({"offer_bytes": 200_000}, "limits.offer_bytes"),
        ({"message_bytes": 20_000, "offer_bytes": 19_999}, "limits.offer_bytes"),
    ],
)
def test_size_limits_are_checked(tmp_path: Path, limits: dict[str, int], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        make_config(tmp_path, limits=limits)
