"""The device test in real Chromium: what the server measured, in the words the patient reads."""

from __future__ import annotations

import struct
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from tests.e2e.conftest import Server, launch
from tests.e2e.pages import accept_terms, open_device_test

SERVER_SETTINGS = {"device_test": {"seconds": 4}}

# Makes every camera request fail as on a computer without a camera (the browser's API).
NO_CAMERA = """
const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => constraints && constraints.video
  ? Promise.reject(new DOMException("no camera", "NotFoundError"))
  : real(constraints);
"""


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko)"
    " Version/18.1 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


def black_y4m(path: Path, frames: int = 30) -> Path:
    """A 320x240 video of black frames (Y=0), as Chromium's fake camera reads it."""
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W320 H240 F30:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(320 * 240) + bytes([128]) * (2 * 160 * 120))
    return path


def silent_wav(path: Path, seconds: int = 2) -> Path:
    """Digital silence, 48 kHz mono 16-bit."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(struct.pack("<h", 0) * 48000 * seconds)
    return path


def verdict(page: Page, item: str) -> tuple[str, str]:
    """(level, words) the page shows for camera, microphone or network."""
    row = page.locator(f'#results li[data-item="{item}"]')
    expect(row).to_be_visible(timeout=20_000)
    return str(row.get_attribute("data-level")), row.inner_text()


@pytest.fixture
def page_of(server: Server) -> Iterator[Callable[..., Page]]:
    contexts = []

    def make(browser: Browser, seed: int, init_script: str = "") -> Page:
        context = browser.new_context(locale="pt-BR")
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        page = context.new_page()
        open_device_test(page, server, seed, "Dora Dispositivo Lima")
        return page

    yield make
    for context in contexts:
        context.close()


def test_default_fake_devices_are_all_ok(browser: Browser, page_of: Callable[..., Page]) -> None:
    page = page_of(browser, 4001)
    # While the test runs, the patient sees the video as the server received it.
    page.wait_for_function(
        """async () => {
          let n = 0;
          const probe = window.atendeProbe;
          if (!probe) return false;
          (await probe.pc.getStats()).forEach((r) => {
            if (r.type === "inbound-rtp" && r.kind === "video") n = r.framesDecoded;
          });
          return n > 10;
        }""",
        timeout=10_000,
    )
    expect(page.locator("#test-status")).to_have_text("Teste concluído.", timeout=20_000)
    level, words = verdict(page, "camera")
    assert level == "ok", words
    assert "Câmera funcionando: 640×480" in words
    fps = int(words.split(", ")[1].split(" ")[0])
    assert 15 <= fps <= 35, words
    assert verdict(page, "microphone")[0] == "ok"
    assert verdict(page, "network")[0] == "ok"
    page.get_by_label("Sim, ouvi").check()
    page.get_by_role("button", name="Continuar").click()
    accept_terms(page)


@pytest.mark.parametrize(
    ("make_file", "flag", "seed", "item", "words"),
    [
        (lambda tmp: black_y4m(tmp / "black.y4m"), "--use-file-for-fake-video-capture", 4002,
         "camera", "Sua câmera parece coberta ou o ambiente está escuro"),
        (lambda tmp: silent_wav(tmp / "silence.wav"), "--use-file-for-fake-audio-capture", 4003,
         "microphone", "Não captamos nenhum som do seu microfone"),
    ],
    ids=["black camera is covered or dark", "silent microphone"],
)  # fmt: skip
def test_a_bad_fake_device_gets_its_problem_verdict(
    playwright: Playwright,
    server: Server,
    page_of: Callable[..., Page],
    tmp_path: Path,
    make_file: Callable[[Path], Path],
    flag: str,
    seed: int,
    item: str,
    words: str,
) -> None:
    browser = launch(playwright, f"{flag}={make_file(tmp_path)}")
    try:
        page = page_of(browser, seed)
        level, shown = verdict(page, item)
        assert level == "problem"
        assert words in shown
    finally:
        browser.close()


def test_no_camera_is_called_unavailable(browser: Browser, page_of: Callable[..., Page]) -> None:
    page = page_of(browser, 4004, NO_CAMERA)
    level, words = verdict(page, "camera")
    assert level == "problem"
    assert "Câmera indisponível" in words
    assert verdict(page, "microphone")[0] == "ok"


def test_a_blocked_camera_says_how_to_allow_it(
    playwright: Playwright, server: Server, page_of: Callable[..., Page]
) -> None:
    # Without the flag that answers permission prompts, a context granted nothing is refused
    # camera and microphone, as when the patient clicks "Bloquear".
    browser = launch(playwright, leave_out=("--use-fake-ui-for-media-stream",))
    try:
        page = page_of(browser, 4005)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("O acesso à câmera e ao microfone foi bloqueado.")
        expect(alert).to_contain_text("No Chrome: clique no ícone à esquerda do endereço")
        # The patient can still go on without the test.
        expect(page.get_by_role("link", name="Pular o teste")).to_be_visible()
        # Patients on other browsers read their browser's steps.
        advice = page.evaluate(
            """async (agents) => {
              const { howToAllow } = await import("/static/js/media.js");
              return agents.map((agent) => howToAllow(agent));
            }""",
            [FIREFOX, SAFARI_IPHONE, EDGE],
        )
        assert [text.split(":")[0] for text in advice] == ["No Firefox", "No Safari", "No Edge"]
    finally:
        browser.close()
