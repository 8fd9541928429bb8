"""The real server in its own process, for the browser tests and the load test."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT


@dataclass
class Server:
    url: str
    database: Path
    admin_email: str
    admin_password: str
    log: Path
    pid: int


def free_port() -> int:
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


@contextlib.contextmanager
def running_server(
    folder: Path, settings: dict[str, dict[str, object]] | None = None
) -> Iterator[Server]:
    """`python -m web serve` on a free port of 127.0.0.1, with a fresh admin; stopped after,
    failing loudly if it logged a traceback."""
    port = free_port()
    config = write_config(folder, port, settings)
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
            pid=proc.pid,
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
