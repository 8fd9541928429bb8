"""The call page's controls in real Chromium: microphone and camera on and off, what the other
side sees, an audio-only patient, the connection-quality badge and blocked autoplay."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.pages import end_call, media_stats, start_call, wait_first_frame
from tests.e2e.test_device import NO_CAMERA

Call = Callable[..., tuple[Page, Page]]

# Refuses to start sound before the person clicked or typed on this page, as Safari does with
# call media (the browser's API). Chromium exempts WebRTC media from its autoplay policy, so
# launching it with --autoplay-policy=document-user-activation-required blocks nothing here.
SOUND_NEEDS_A_CLICK = """
let interacted = false;
for (const kind of ["pointerdown", "keydown"]) {
  addEventListener(kind, (event) => { if (event.isTrusted) interacted = true; }, true);
}
const realPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!this.muted && !interacted) {
    return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
  }
  return realPlay.call(this);
};
"""

REMOTE_VIDEO_PLAYING = """
() => {
  const video = document.getElementById("remote-video");
  return {muted: video.muted, paused: video.paused, time: video.currentTime};
}
"""

# Stops or resumes sending the camera's frames on the page's connection (the browser's API:
# RTCRtpSender.replaceTrack), behind the page's back.
SET_VIDEO_SENDING = """
async (on) => {
  const pc = window.atendeCall.pc;
  const video = pc.getTransceivers().find((t) => t.receiver.track.kind === "video");
  if (!on) window.savedCamera = video.sender.track;
  await video.sender.replaceTrack(on ? window.savedCamera : null);
}
"""


@pytest.fixture
def call(server: Server) -> Iterator[Call]:
    """call(browser, seed, name, patient_script="") -> (professional page, patient page) in a
    call: the admin attends a newly registered patient."""
    contexts: list[BrowserContext] = []

    def make(browser: Browser, seed: int, name: str, patient_script: str = "") -> tuple[Page, Page]:
        staff_ctx = browser.new_context(locale="pt-BR")
        patient_ctx = browser.new_context(locale="pt-BR")
        contexts.extend((staff_ctx, patient_ctx))
        if patient_script:
            patient_ctx.add_init_script(patient_script)
        pro, patient = staff_ctx.new_page(), patient_ctx.new_page()
        start_call(pro, patient, server, seed, name)
        return pro, patient

    yield make
    for context in contexts:
        context.close()


def test_camera_and_microphone_toggles_show_on_the_other_side(
    browser: Browser, server: Server, call: Call
) -> None:
    pro, patient = call(browser, 5001, "Tereza Toggle Ramos")
    wait_first_frame({"professional": pro, "patient": patient}, since=time.monotonic())

    # On loopback both pages call the connection good, with the figures for who wants them.
    for page in (pro, patient):
        expect(page.locator("#quality-label")).to_have_text("Conexão boa", timeout=15_000)
        expect(page.locator("#quality")).to_have_class(re.compile("text-bg-success"))
        expect(page.locator("#quality")).to_have_attribute(
            "title", re.compile(r"perda de pacotes [\d,]+ %, .* ms, ida e volta \d+ ms")
        )
        expect(page.locator("#quality-figures")).to_contain_text("ida e volta")

    # The professional turns the camera off: the button says so, her preview too, and the
    # patient sees a placeholder with her name instead of a black picture.
    placeholder = patient.locator("#remote-camera-off")
    expect(placeholder).to_be_hidden()
    camera = pro.get_by_role("button", name="Desligar câmera")
    expect(camera).to_have_attribute("aria-pressed", "false")
    camera.click()
    camera = pro.get_by_role("button", name="Ligar câmera")
    expect(camera).to_have_attribute("aria-pressed", "true")
    expect(pro.locator("#local-camera-off")).to_have_text("Sua câmera está desligada")
    expect(pro.get_by_label("Sua câmera")).to_be_hidden()
    expect(placeholder).to_be_visible()
    expect(placeholder).to_contain_text("Câmera desligada")
    expect(placeholder).to_contain_text("Admin Clínica")

    # On again: the placeholder goes and the picture moves on the patient's page.
    camera.click()
    expect(pro.get_by_role("button", name="Desligar câmera")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(pro.get_by_label("Sua câmera")).to_be_visible()
    expect(placeholder).to_be_hidden()
    before = media_stats(patient)["framesDecoded"]
    patient.wait_for_timeout(1500)
    assert media_stats(patient)["framesDecoded"] > before
    expect(placeholder).to_be_hidden()  # still: the frames-watch agrees

    # The patient mutes: the professional sees "Microfone desligado"; unmuting removes it.
    mic_off = pro.locator("#remote-mic-off")
    expect(mic_off).to_be_hidden()
    patient.get_by_role("button", name="Desligar microfone").click()
    expect(patient.get_by_role("button", name="Ligar microfone")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(mic_off).to_be_visible()
    expect(mic_off).to_have_text("Microfone desligado")
    patient.get_by_role("button", name="Ligar microfone").click()
    expect(mic_off).to_be_hidden()

    # The patient's video stops arriving without a word from her page (the browser stops
    # sending it): the professional's page notices from its statistics, and again when it
    # comes back.
    camera_off = pro.locator("#remote-camera-off")
    patient.evaluate(SET_VIDEO_SENDING, False)
    expect(camera_off).to_be_visible(timeout=10_000)
    expect(camera_off).to_contain_text("Tereza Toggle Ramos")
    patient.evaluate(SET_VIDEO_SENDING, True)
    expect(camera_off).to_be_hidden(timeout=10_000)
    expect(patient.locator("#call-error")).to_be_hidden()
    expect(pro.locator("#call-error")).to_be_hidden()
    end_call(pro, patient, server)


def test_a_patient_without_a_camera_is_heard_and_shown_as_camera_off(
    browser: Browser, server: Server, call: Call
) -> None:
    pro, patient = call(browser, 5002, "Nair Semcamera Dias", patient_script=NO_CAMERA)
    expect(pro.locator("#call-status")).to_have_text("Conectado.", timeout=15_000)
    expect(patient.locator("#call-status")).to_have_text("Conectado.", timeout=15_000)

    # The professional sees a placeholder with the patient's name, not an error.
    placeholder = pro.locator("#remote-camera-off")
    expect(placeholder).to_be_visible()
    expect(placeholder).to_contain_text("Câmera desligada")
    expect(placeholder).to_contain_text("Nair Semcamera Dias")
    expect(pro.locator("#call-error")).to_be_hidden()
    expect(patient.locator("#call-error")).to_be_hidden()

    # The patient's page says there is no camera; the microphone button works as usual.
    expect(patient.get_by_role("button", name="Sem câmera")).to_be_disabled()
    expect(patient.locator("#local-camera-off")).to_be_visible()
    expect(patient.get_by_role("button", name="Desligar microfone")).to_be_enabled()

    # Sound flows both ways, and the patient sees the professional.
    wait_first_frame({"patient": patient}, since=time.monotonic())
    for page in (pro, patient):
        before = media_stats(page)["audioBytes"]
        page.wait_for_timeout(1500)
        assert media_stats(page)["audioBytes"] > before
    assert media_stats(pro)["framesDecoded"] == 0
    expect(placeholder).to_be_visible()
    end_call(pro, patient, server)


def test_blocked_autoplay_offers_a_button_that_turns_the_sound_on(
    browser: Browser, server: Server, call: Call
) -> None:
    pro, patient = call(browser, 5003, "Olga Autoplay Reis", patient_script=SOUND_NEEDS_A_CLICK)
    button = patient.get_by_role("button", name="Ativar o som")
    expect(button).to_be_visible(timeout=15_000)
    wait_first_frame({"patient": patient}, since=time.monotonic())
    state = patient.evaluate(REMOTE_VIDEO_PLAYING)
    assert state["muted"] and not state["paused"], state  # the picture moves meanwhile

    button.click()
    expect(button).to_be_hidden()
    first = patient.evaluate(REMOTE_VIDEO_PLAYING)
    patient.wait_for_timeout(1000)
    later = patient.evaluate(REMOTE_VIDEO_PLAYING)
    assert not later["muted"] and not later["paused"], later
    assert later["time"] > first["time"], (first, later)
    end_call(pro, patient, server)


def frames_grow(page: Page, timeout: float = 20.0) -> None:
    """The page's current connection decodes new remote video frames."""
    before = media_stats(page)["framesDecoded"]
    deadline = time.monotonic() + timeout
    while media_stats(page)["framesDecoded"] <= before + 5:
        assert time.monotonic() < deadline, "remote video did not resume"
        page.wait_for_timeout(200)


def test_a_reload_or_an_ice_restart_rejoins_the_same_call(browser: Browser, call: Call) -> None:
    pro, patient = call(browser, 5301, "Rita Reconexão Alves")
    wait_first_frame({"pro": pro, "patient": patient}, time.monotonic())

    # The patient's page reloads mid-call: the same call page comes back, media on both sides.
    patient.reload()
    expect(patient.get_by_role("button", name="Desligar", exact=True)).to_be_visible()
    wait_first_frame({"patient": patient}, time.monotonic())
    frames_grow(patient)
    frames_grow(pro)
    expect(pro.locator("#call-error")).to_be_hidden()

    # The professional's browser restarts ICE: the page makes a new connection, media resumes.
    old = pro.evaluate("() => { window.oldPc = window.atendeCall.pc; return true; }")
    assert old
    pro.evaluate("() => window.atendeCall.pc.restartIce()")
    pro.wait_for_function("() => window.atendeCall.pc !== window.oldPc", timeout=10_000)
    frames_grow(pro)
    frames_grow(patient)
    expect(patient).to_have_url(re.compile(r"/paciente/consulta$"))
