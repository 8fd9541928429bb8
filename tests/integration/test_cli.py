import re
from pathlib import Path

import pytest

from tests.support import make_config
from web.accounts import verify_password
from web.cli import _first_admin
from web.store import Store


def test_first_start_creates_an_admin_and_prints_the_password_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path)
    _first_admin(config)
    shown = capsys.readouterr().out
    password = re.search(r"Senha:\s+(\S+)", shown)
    assert password and "admin@atende.local" in shown
    store = Store(config.database_path)
    admin = store.staff_by_email("admin@atende.local")
    assert admin is not None and admin.is_admin and admin.status == "approved"
    assert verify_password(admin.password_hash, password.group(1))
    store.close()
    _first_admin(config)  # the second start prints nothing
    assert "Senha" not in capsys.readouterr().out


def test_a_busy_port_is_a_clear_message(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from tests.e2e.conftest import write_config

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = write_config(tmp_path, busy.getsockname()[1])
        result = subprocess.run(
            [sys.executable, "-m", "web", "--config", str(config), "serve"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert "cannot listen on http://127.0.0.1:" in result.stderr
    assert "Is Atende already running?" in result.stderr
    assert "Traceback" not in result.stderr
