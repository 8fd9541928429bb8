"""End-to-end fixtures: the real server in its own process, and system Chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.support import ROOT

CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Server:
    url: str
    database: Path
    admin_email: str
    admin_password: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def write_config(
    folder: Path, port: int, settings: dict[str, dict[str, object]] | None = None
) -> Path:
    """config.toml for a test server: a private database, loopback-only media."""
    with (ROOT / "config.toml").open("rb") as fh:
        data = tomllib.load(fh)
    data["server"]["port"] = port
    data["database"]["path"] = str(folder / "atende.sqlite3")
    data["session"]["secret_file"] = str(folder / "session.key")
    data["session"]["secret_env"] = ""
    data["terms"]["file"] = str(ROOT / data["terms"]["file"])
    data["relay"]["host_addresses"] = ["127.0.0.1"]
    data["relay"]["remote_networks"] = ["127.0.0.0/8"]
    for section, values in (settings or {}).items():
        data[section].update(values)
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The real server in its own process; a test module may set SERVER_SETTINGS."""
    folder = tmp_path_factory.mktemp("server")
    port = _free_port()
    config = write_config(folder, port, getattr(request.module, "SERVER_SETTINGS", None))
    admin = subprocess.run(
        [sys.executable, "-m", "web", "--config", str(config), "create-admin",
         "--email", "admin@clinica.example", "--name", "Admin Clínica"],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    password = re.search(r"Password \(shown once\): (\S+)", admin.stdout)
    assert password, admin.stdout
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "web", "--config", str(config), "serve"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start:\n" + log.read_text()) from None
                time.sleep(0.1)
        yield Server(
            url=f"http://127.0.0.1:{port}",
            database=folder / "atende.sqlite3",
            admin_email="admin@clinica.example",
            admin_password=password.group(1),
            log=log,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        # Anything unexpected the server logged fails the run loudly.
        text = log.read_text()
        assert "Traceback" not in text, text


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


def launch(playwright: Playwright, *extra_args: str, leave_out: tuple[str, ...] = ()) -> Browser:
    """The system Chromium with fake camera and microphone (and any extra flags, less leave_out)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium is missing: scripts/test.sh installs it with apt-get"
    args = [arg for arg in CHROMIUM_ARGS if arg not in leave_out]
    return playwright.chromium.launch(executable_path=executable, args=[*args, *extra_args])


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()
