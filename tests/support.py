"""Test helpers: a config for a test run, CSRF tokens from pages, valid CPFs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from web.config import Config, parse_config

ROOT = Path(__file__).resolve().parent.parent


def config_dict() -> dict[str, Any]:
    with (ROOT / "config.toml").open("rb") as fh:
        return tomllib.load(fh)


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    """The shipped config.toml with a private database and secret, on loopback only."""
    data = config_dict()
    data["database"]["path"] = str(tmp_path / "atende.sqlite3")
    data["session"]["secret_file"] = str(tmp_path / "session.key")
    data["session"]["secret_env"] = ""
    data["relay"]["host_addresses"] = ["127.0.0.1"]
    data["relay"]["remote_networks"] = ["127.0.0.0/8"]
    data["server"]["port"] = 0
    # Many registrations come from 127.0.0.1 in one minute here; test_limits sets its own.
    data["limits"]["registrations_per_minute"] = 10_000
    for name, values in sections.items():
        data[name].update(values)
    return parse_config(data, ROOT)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def make_cpf(seed: int) -> str:
    """A valid CPF built from nine digits (check digits computed)."""
    digits = [int(c) for c in f"{seed:09d}"[-9:]]
    if len(set(digits)) == 1:
        digits[0] = (digits[0] + 1) % 10
    for n in (9, 10):
        total = sum(d * w for d, w in zip(digits[:n], range(n + 1, 1, -1), strict=True))
        digits.append((total * 10) % 11 % 10)
    return "".join(map(str, digits))
