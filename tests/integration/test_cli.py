import re
import ssl
import tomllib
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

    from tests.server import write_config

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


def _make_cert(folder: Path, capsys: pytest.CaptureFixture[str], *hosts: str) -> dict[str, str]:
    """Run `atende make-cert`; returns the [server] settings it printed."""
    from web.cli import main

    args = [a for host in hosts for a in ("--host", host)]
    assert main(["make-cert", "--dir", str(folder), *args]) == 0
    shown = capsys.readouterr().out
    assert "self-signed" in shown and "warn" in shown  # the browser warning is announced
    settings = tomllib.loads("\n".join(re.findall(r"^tls_(?:cert|key) = .*$", shown, re.M)))
    assert set(settings) == {"tls_cert", "tls_key"}
    return settings


def test_make_cert_writes_a_certificate_for_the_given_hosts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography import x509

    from tests.support import make_config

    settings = _make_cert(tmp_path / "tls", capsys, "192.168.0.10", "atende.lan")
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
        settings["tls_cert"], settings["tls_key"]
    )
    assert Path(settings["tls_key"]).stat().st_mode & 0o077 == 0  # the key is the owner's only
    cert = x509.load_pem_x509_certificate(Path(settings["tls_cert"]).read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "atende.lan"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == [
        "127.0.0.1", "::1", "192.168.0.10"
    ]  # fmt: skip
    assert make_config(tmp_path, server=settings).tls  # the printed lines are valid settings


def test_make_cert_refuses_a_bad_host(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from web.cli import main

    assert main(["make-cert", "--dir", str(tmp_path), "--host", "not a host"]) == 2
    assert "not a host name or IP address: not a host" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_server_with_a_certificate_answers_https(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import http.client
    import subprocess
    import sys
    import time

    from tests.server import free_port, write_config

    settings = _make_cert(tmp_path / "tls", capsys)
    port = free_port()
    config = write_config(tmp_path, port, {"server": settings})  # session.cookie_secure = false
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "--config", str(config), "serve"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        # the certificate is the only trusted one, and must name 127.0.0.1
        trust = ssl.create_default_context(cafile=settings["tls_cert"])
        deadline = time.monotonic() + 30
        while True:
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=trust)
            try:
                conn.request("GET", "/")
                resp = conn.getresponse()
                break
            except ConnectionRefusedError:
                conn.close()
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        page = resp.read().decode()
        conn.close()
        assert resp.status == 200
        assert "Sou paciente" in page
        cookie = resp.getheader("Set-Cookie") or ""
        assert cookie.startswith("atende_session=") and "Secure" in cookie  # forced with TLS
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"Atende: https://127.0.0.1:{port}/" in out
    assert "Traceback" not in out
