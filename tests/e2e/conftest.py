"""End-to-end fixtures: the real server in its own process, and system Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.server import Server, free_port, running_server, write_config

__all__ = ["Server", "free_port", "launch", "write_config"]

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


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The real server in its own process; a test module may set SERVER_SETTINGS."""
    settings = getattr(request.module, "SERVER_SETTINGS", None)
    with running_server(tmp_path_factory.mktemp("server"), settings) as server:
        yield server


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
