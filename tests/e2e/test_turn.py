"""A call whose browsers may only go through TURN: a real coturn on 127.0.0.1, REST credentials."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.pages import assert_media_flows, end_call, start_call, wait_first_frame
from tests.server import free_port

TURN_PORT = free_port()
TURN_SECRET = secrets.token_urlsafe(24)
SECRET_ENV = "ATENDE_E2E_TURN_SECRET"
# Browsers reach coturn over TCP (what a network that blocks UDP leaves open); coturn relays
# to the server's host candidate 127.0.0.1 over UDP. The server (aiortc) uses no TURN itself.
SERVER_SETTINGS: dict[str, dict[str, object]] = {
    "ice": {
        "turn_urls": [f"turn:127.0.0.1:{TURN_PORT}?transport=tcp"],
        "turn_secret_env": SECRET_ENV,
        "turn_ttl_seconds": 600,
        "transport_policy": "relay",
    }
}

SELECTED_PAIR_JS = """
async () => {
  const call = window.atendeCall;
  if (!call) return null;
  const stats = await call.pc.getStats();
  let pairId = null;
  stats.forEach((r) => {
    if (r.type === "transport" && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  const pair = pairId && stats.get(pairId);
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return {
    state: pair.state,
    localType: local.candidateType,
    relayProtocol: local.relayProtocol || "",
    localUrl: local.url || "",
    remoteAddress: remote.address,
  };
}
"""


@pytest.fixture(scope="module", autouse=True)
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """coturn with use-auth-secret on 127.0.0.1:TURN_PORT; yields its log file."""
    executable = shutil.which("turnserver")
    assert executable, "coturn is missing: scripts/test.sh installs it with apt-get"
    folder = tmp_path_factory.mktemp("coturn")
    log = folder / "turn.log"
    proc = subprocess.Popen(
        [
            executable,
            "-n",  # no configuration file: only these options
            "--listening-ip=127.0.0.1",
            f"--listening-port={TURN_PORT}",
            "--relay-ip=127.0.0.1",
            "--allow-loopback-peers",  # the server's candidate is 127.0.0.1
            "--use-auth-secret",
            f"--static-auth-secret={TURN_SECRET}",
            "--realm=atende.test",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--no-rfc5780",
            "--no-multicast-peers",
            f"--db={folder / 'turndb'}",
            f"--pidfile={folder / 'turnserver.pid'}",
            f"--log-file={log}",
            "--simple-log",
            "--no-stdout-log",
            "--verbose",  # logs each allocation and the username it was made for
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", TURN_PORT), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log.read_text() if log.exists() else "(no log)"
                    raise RuntimeError("coturn did not start:\n" + text) from None
                time.sleep(0.1)
        # The secret reaches the server the way an operator gives it: an environment variable.
        with pytest.MonkeyPatch.context() as env:
            env.setenv(SECRET_ENV, TURN_SECRET)
            yield log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def selected_pair(page: Page, timeout: float = 20.0) -> dict[str, Any]:
    """The candidate pair the page's connection sends and receives on, once it has one."""
    deadline = time.monotonic() + timeout
    while True:
        pair = page.evaluate(SELECTED_PAIR_JS)
        if pair and pair["state"] == "succeeded":
            return dict(pair)
        assert time.monotonic() < deadline, f"no selected candidate pair: {pair}"
        time.sleep(0.1)


def turn_username(page: Page) -> str:
    """The TURN username the page was handed (its password is the HMAC of it)."""
    (server,) = json.loads(page.locator("#call").get_attribute("data-ice-servers") or "[]")
    return str(server["username"])


def wait_for_log(log: Path, pattern: str, timeout: float = 15.0) -> None:
    """coturn writes its log a little behind the events: wait until a line matches."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, log.read_text()):
        assert time.monotonic() < deadline, f"coturn never logged {pattern!r}:\n{log.read_text()}"
        time.sleep(0.2)


def relayed_bytes(log: Path, user: str) -> int:
    """Bytes coturn received from the server for `user`'s closed relays (its "peer usage")."""
    pattern = rf"peer usage: realm=<[^>]*>, username=<{re.escape(user)}>, rp=\d+, rb=(\d+)"
    return sum(int(rb) for rb in re.findall(pattern, log.read_text()))


def test_a_call_goes_through_turn(browser: Browser, server: Server, coturn: Path) -> None:
    pro_ctx = browser.new_context(locale="pt-BR")
    patient_ctx = browser.new_context(locale="pt-BR")
    pro, patient = pro_ctx.new_page(), patient_ctx.new_page()
    clicked = time.monotonic()
    start_call(pro, patient, server, seed=731_002_114, name="Rita Gonçalves")
    first = wait_first_frame({"professional": pro, "patient": patient}, since=clicked, timeout=45)
    print("\nfirst remote frame via TURN: " + ", ".join(f"{k} {v:.1f} s" for k, v in first.items()))
    expect(patient.locator("#call-status")).to_have_text("Conectado.")

    # Both pages reach the server only through coturn, over TCP; the far end is the server.
    users: dict[str, str] = {}
    for name, page in (("patient", patient), ("professional", pro)):
        pair = selected_pair(page)
        assert pair["localType"] == "relay", pair
        assert pair["relayProtocol"] == "tcp", pair
        assert pair["localUrl"].startswith(f"turn:127.0.0.1:{TURN_PORT}"), pair
        assert pair["remoteAddress"] == "127.0.0.1", pair
        users[name] = turn_username(page)
    assert_media_flows(patient)
    assert_media_flows(pro)

    # coturn accepted each page's own credentials and let its relay reach the server.
    assert users["patient"] != users["professional"]
    for user in users.values():
        assert re.fullmatch(r"\d{10}:[0-9a-f]{16}", user), user  # expiry:opaque id, nothing else
        wait_for_log(coturn, rf"user <{user}>: incoming packet ALLOCATE processed, success")
        wait_for_log(
            coturn, rf"user <{user}>: incoming packet CREATE_PERMISSION processed, success"
        )

    end_call(pro, patient, server)
    pro_ctx.close()
    patient_ctx.close()
    # As the relays close, coturn counts what came through them from the server: the call's media.
    for user in users.values():
        deadline = time.monotonic() + 15
        while (received := relayed_bytes(coturn, user)) < 30_000:  # STUN alone: ~1 kB
            assert time.monotonic() < deadline, f"{user}: {received} bytes relayed"
            time.sleep(0.2)
