// Device test: send camera and microphone to the server, show its measurements and verdicts.
import { _, number } from "./i18n.js";
import { getMedia, mediaErrorText, playTone, waitForGathering } from "./media.js";
import { openSocket, REPLACED_TEXT } from "./socket.js";

const root = document.getElementById("device-test");
const seconds = Number(root.dataset.seconds);
const statusEl = document.getElementById("test-status");
const errorEl = document.getElementById("test-error");
const loopback = document.getElementById("loopback");
const light = document.getElementById("meter-light");
const sound = document.getElementById("meter-sound");
const details = document.getElementById("meter-details");
const results = document.getElementById("results");
const retry = document.getElementById("retry");
const LEVEL_TEXT = { ok: _("OK"), warning: _("Atenção"), problem: _("Problema") };
const LEVEL_CLASS = { ok: "text-bg-success", warning: "text-bg-warning", problem: "text-bg-danger" };
const ITEM_TEXT = { camera: _("Câmera"), microphone: _("Microfone"), network: _("Conexão") };

let pc = null;
let stream = null;

function fail(text) { errorEl.textContent = text; errorEl.classList.remove("d-none"); }

function stop() {
  if (pc) pc.close();
  pc = null;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
}

function showProgress(m) {
  statusEl.textContent = _("Testando… %(left)s s", { left: Math.max(0, Math.ceil(seconds - m.seconds)) });
  const parts = [];
  if (m.video) {
    light.value = m.video.brightness;
    parts.push(_("%(width)s×%(height)s, %(fps)s quadros/s", { width: m.video.width, height: m.video.height, fps: Math.round(m.video.fps) }));
  }
  if (m.audio) sound.value = Math.max(-80, m.audio.recent_rms_dbfs);
  if (m.network.rtt_ms !== null) parts.push(_("atraso %(rtt)s ms", { rtt: Math.round(m.network.rtt_ms) }));
  if (m.network.loss_percent !== null) parts.push(_("perda %(loss)s", { loss: `${number(m.network.loss_percent, 1)} %` }));
  details.textContent = parts.join(" · ");
}

function showResult(m) {
  statusEl.textContent = _("Teste concluído.");
  results.replaceChildren();
  for (const v of m.verdicts) {
    const item = document.createElement("li");
    item.className = "list-group-item d-flex gap-2 align-items-start";
    item.dataset.item = v.item;
    item.dataset.level = v.level;
    const badge = document.createElement("span");
    badge.className = `badge ${LEVEL_CLASS[v.level]}`;
    badge.textContent = LEVEL_TEXT[v.level];
    const text = document.createElement("span");
    const name = document.createElement("strong");
    name.textContent = `${ITEM_TEXT[v.item]}: `;
    text.append(name, document.createTextNode(v.text));
    item.append(badge, text);
    results.append(item);
  }
  stop();
}

async function start() {
  errorEl.classList.add("d-none");
  stop();
  statusEl.textContent = _("Preparando câmera e microfone…");
  try {
    stream = await getMedia();
  } catch (error) {
    statusEl.textContent = "";
    fail(mediaErrorText(error));
    return;
  }
  pc = new RTCPeerConnection({
    iceServers: JSON.parse(root.dataset.iceServers || "[]"),
    iceTransportPolicy: root.dataset.iceTransportPolicy || "all",
    bundlePolicy: "max-bundle", // one set of candidates, not one per m-line
  });
  window.atendeProbe = { pc };
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendrecv", streams: [stream] });
  pc.addEventListener("track", (event) => {
    if (event.track.kind === "video") loopback.srcObject = new MediaStream([event.track]);
  });
  await pc.setLocalDescription(await pc.createOffer());
  await waitForGathering(pc);
  socket.send({ type: "probe_offer", sdp: pc.localDescription.sdp });
  statusEl.textContent = _("Conectando ao servidor…");
}

const socket = openSocket("patient", async (m) => {
  if (m.type === "probe_answer" && pc) await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
  else if (m.type === "probe_progress") showProgress(m);
  else if (m.type === "probe_result") showResult(m);
  else if (m.type === "error" && m.code === "offer_rejected") { stop(); fail(m.message); }
  else if (m.type === "replaced") { stop(); fail(REPLACED_TEXT); }
});

document.getElementById("play-sound").addEventListener("click", () => playTone(660, 1.3));
retry.addEventListener("click", start);
start();
