import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, config_dict
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
