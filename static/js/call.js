// Call page (patient and professional): one RTCPeerConnection to the server's media relay.
import { _, number } from "./i18n.js";
import { getMedia, mediaErrorText, waitForGathering } from "./media.js";
import { openSocket, REPLACED_TEXT } from "./socket.js";

const root = document.getElementById("call");
const role = root.dataset.role;
const afterCall = root.dataset.afterCall;
const iceServers = JSON.parse(root.dataset.iceServers || "[]");
const iceTransportPolicy = root.dataset.iceTransportPolicy || "all";
const statusEl = document.getElementById("call-status");
const errorEl = document.getElementById("call-error");
const localVideo = document.getElementById("local-video");
const remoteVideo = document.getElementById("remote-video");
const hangup = document.getElementById("hangup");
const unmute = document.getElementById("unmute");
const micButton = document.getElementById("toggle-mic");
const cameraButton = document.getElementById("toggle-camera");
const localCameraOff = document.getElementById("local-camera-off");
const remoteCameraOff = document.getElementById("remote-camera-off");
const remoteMicOff = document.getElementById("remote-mic-off");
const qualityEl = document.getElementById("quality");
const qualityLabel = document.getElementById("quality-label");
const qualityFigures = document.getElementById("quality-figures");
const chatLog = document.getElementById("chat-log");
const chatForm = document.getElementById("chat-form");
const chatText = document.getElementById("chat-text");

const remoteStream = new MediaStream();
remoteVideo.srcObject = remoteStream;
let pc = null;
let localStream = null;
let ended = false;
let greeted = false; // a second "hello" means the socket reconnected
let statsTimer = null;

function say(text) { statusEl.textContent = text; }
function fail(text) { errorEl.textContent = text; errorEl.classList.remove("d-none"); }

function localTrack(kind) { return localStream ? localStream.getTracks().find((t) => t.kind === kind) : undefined; }

// Microphone and camera buttons: `track.enabled` on the local track, so nothing is renegotiated
// (a disabled track sends silence or black frames). aria-pressed="true" means "turned off".
function showToggle(button, track) {
  if (!track) {
    button.textContent = button.dataset.missing;
    button.setAttribute("aria-pressed", "true");
    button.disabled = true;
    return;
  }
  button.disabled = false;
  button.textContent = track.enabled ? button.dataset.turnOff : button.dataset.turnOn;
  button.setAttribute("aria-pressed", String(!track.enabled));
  button.classList.toggle("active", !track.enabled);
}

function showLocalMedia() {
  const camera = localTrack("video");
  const mic = localTrack("audio");
  showToggle(cameraButton, camera);
  showToggle(micButton, mic);
  const cameraOn = Boolean(camera && camera.enabled);
  localVideo.classList.toggle("d-none", !cameraOn);
  localCameraOff.classList.toggle("d-none", cameraOn);
}

// Tells the other side whether our camera and microphone are on (`media_state`, docs/protocol.md).
function sendMediaState() {
  if (!localStream || !greeted || ended) return;
  const camera = localTrack("video");
  const mic = localTrack("audio");
  socket.send({ type: "media_state", camera: Boolean(camera && camera.enabled), mic: Boolean(mic && mic.enabled) });
}

function toggle(kind) {
  const track = localTrack(kind);
  if (!track) return;
  track.enabled = !track.enabled;
  showLocalMedia();
  sendMediaState();
}

// The other side's video: a "Câmera desligada" placeholder when they said their camera is off
// (or they have none), or when no video frame was decoded over the last stats interval (their
// offer had no video, or the frames stopped arriving).
let peerCamera = true;
let peerMic = true;
let videoArriving = true;

function showRemoteMedia() {
  remoteCameraOff.classList.toggle("d-none", peerCamera && videoArriving);
  remoteMicOff.classList.toggle("d-none", peerMic);
}

// Connection quality from the browser's own statistics, every STATS_MS, over the last interval:
// - loss: inbound packets lost / (lost + received), audio and video together, in %;
// - jitter: the larger inbound jitter (audio or video), in ms;
// - round trip: the selected ICE candidate pair's currentRoundTripTime (to the server), in ms.
// Thresholds as the device test's network verdict (web/device_check.py):
//   "Conexão ruim": loss > 5 % or round trip > 400 ms or jitter > 100 ms;
//   "Conexão instável": loss > 2 % or round trip > 250 ms or jitter > 50 ms;
//   "Conexão boa": otherwise.
const STATS_MS = 2000;
const QUALITY_BADGE = { good: "text-bg-success", unstable: "text-bg-warning", bad: "text-bg-danger" };
let lastSample = null; // {lost, received, frames} at the previous reading, while connected

function qualityLevel(loss, jitter, rtt) {
  if (loss > 5 || rtt > 400 || jitter > 100) return "bad";
  if (loss > 2 || rtt > 250 || jitter > 50) return "unstable";
  return "good";
}

function showQuality(loss, jitter, rtt) {
  const level = qualityLevel(loss, jitter, rtt ?? 0);
  const values = { loss: `${number(loss, 1)} %`, jitter: `${number(jitter)} ms`, rtt: `${number(rtt ?? 0)} ms` };
  const figures = rtt === null
    ? _("perda de pacotes %(loss)s, variação (jitter) %(jitter)s", values)
    : _("perda de pacotes %(loss)s, variação (jitter) %(jitter)s, ida e volta %(rtt)s", values);
  qualityLabel.textContent = qualityEl.dataset[level];
  qualityFigures.textContent = ` (${figures})`;
  qualityEl.title = figures;
  qualityEl.className = `badge ${QUALITY_BADGE[level]}`;
  qualityEl.dataset.level = level;
}

async function sampleStats() {
  if (!pc || ended) return;
  if (pc.connectionState !== "connected") { // the status line says what is going on
    lastSample = null;
    qualityEl.classList.add("d-none");
    return;
  }
  const report = await pc.getStats();
  let lost = 0;
  let received = 0;
  let jitter = 0;
  let frames = null;
  let selectedPair = null;
  const pairs = new Map();
  report.forEach((r) => {
    if (r.type === "inbound-rtp") {
      lost += r.packetsLost || 0;
      received += r.packetsReceived || 0;
      jitter = Math.max(jitter, (r.jitter || 0) * 1000);
      if (r.kind === "video") frames = r.framesDecoded || 0;
    } else if (r.type === "transport" && r.selectedCandidatePairId) {
      selectedPair = r.selectedCandidatePairId;
    } else if (r.type === "candidate-pair") {
      pairs.set(r.id, r);
    }
  });
  const pair = pairs.get(selectedPair) || [...pairs.values()].find((p) => p.nominated && p.state === "succeeded");
  const rtt = pair && typeof pair.currentRoundTripTime === "number" ? pair.currentRoundTripTime * 1000 : null;
  if (lastSample) {
    const gotLost = Math.max(0, lost - lastSample.lost);
    const gotReceived = Math.max(0, received - lastSample.received);
    showQuality(gotLost + gotReceived > 0 ? (100 * gotLost) / (gotLost + gotReceived) : 0, jitter, rtt);
    videoArriving = frames !== null && frames > (lastSample.frames ?? 0);
    showRemoteMedia();
  }
  lastSample = { lost, received, frames };
}

function watchStats() {
  if (statsTimer) return;
  statsTimer = setInterval(() => { sampleStats().catch(() => {}); }, STATS_MS);
}

async function startMedia() {
  if (pc) pc.close();
  for (const track of remoteStream.getTracks()) remoteStream.removeTrack(track);
  pc = new RTCPeerConnection({ iceServers, iceTransportPolicy, bundlePolicy: "max-bundle" });
  window.atendeCall = { pc };
  for (const kind of ["audio", "video"]) {
    const track = localStream.getTracks().find((t) => t.kind === kind);
    if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [localStream] });
    else pc.addTransceiver(kind, { direction: "recvonly" });
  }
  lastSample = null;
  pc.addEventListener("track", (event) => {
    remoteStream.addTrack(event.track);
    playRemote();
  });
  const conn = pc;
  let offered = false;
  conn.addEventListener("connectionstatechange", () => {
    if (ended || conn !== pc) return; // a replaced connection's late events
    clearTimeout(disconnectTimer);
    if (conn.connectionState === "connected") {
      retries = 0;
      say(_("Conectado."));
    } else if (conn.connectionState === "failed") {
      say(_("A conexão de vídeo falhou. Tentando de novo…"));
      reconnectSoon();
    } else if (conn.connectionState === "disconnected") {
      say(_("Conexão instável…"));
      // Often recovers by itself; if not, start a new connection.
      disconnectTimer = setTimeout(() => { if (conn === pc) reconnectSoon(); }, DISCONNECTED_MS);
    }
  });
  // An ICE restart (pc.restartIce(), or the browser's own) needs a new offer: the relay answers
  // every offer with a fresh connection, so the page makes one and the call carries on.
  conn.addEventListener("negotiationneeded", () => {
    if (conn === pc && offered && !ended) reconnectSoon(0);
  });
  await conn.setLocalDescription(await conn.createOffer());
  await waitForGathering(conn);
  if (conn !== pc) return;
  offered = true;
  socket.send({ type: "offer", sdp: conn.localDescription.sdp });
  say(_("Conectando ao atendimento…"));
}

// A failed or stuck media connection is replaced by a new one (same call), backing off.
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
const DISCONNECTED_MS = 8000;
let retries = 0;
let retryTimer = null;
let disconnectTimer = null;

function reconnectSoon(delay = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]) {
  if (ended || retryTimer) return;
  retries += 1;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (!ended) startMedia().catch(() => reconnectSoon());
  }, delay);
}

// Autoplay with sound may be blocked until the person interacts with the page: then the video
// plays muted and the "Ativar o som" button turns the sound on.
function playRemote() {
  remoteVideo.play().catch((error) => {
    if (error.name !== "NotAllowedError") return; // e.g. interrupted by a newer play()
    remoteVideo.muted = true;
    remoteVideo.play().catch(() => {});
    unmute.classList.remove("d-none");
  });
}

function stopStats() {
  clearInterval(statsTimer);
  statsTimer = null;
}

function finish(text, next = afterCall) {
  ended = true;
  stopStats();
  say(text);
  if (pc) pc.close();
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  hangup.disabled = true;
  setTimeout(() => location.assign(next), 800);
}

function showChat(message) {
  const item = document.createElement("li");
  const who = document.createElement("strong");
  const name = message.from === role ? _("Você") : (role === "patient" ? _("Profissional") : _("Paciente"));
  who.textContent = `${name}: `;
  item.append(who, document.createTextNode(message.text)); // text, never HTML
  chatLog.append(item);
  chatLog.scrollTop = chatLog.scrollHeight;
}

const ENDED_TEXT = {
  hangup: (by) => (by === role ? _("Atendimento encerrado.") : _("O atendimento foi encerrado pelo outro lado.")),
  lost: () => (role === "professional" ? _("O paciente perdeu a conexão.") : _("Atendimento encerrado.")),
};

const socket = openSocket(role, async (m) => {
  if (m.type === "answer" && pc) {
    await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
  } else if (m.type === "hello") {
    if (m.state !== "called" && m.state !== "in_call") { finish(_("Este atendimento já terminou.")); return; }
    if (greeted && localStream && !ended) await startMedia(); // reconnected: renegotiate
    greeted = true;
    sendMediaState();
  } else if (m.type === "media_state") {
    if (m.from === role) return;
    peerCamera = m.camera;
    peerMic = m.mic;
    if (peerCamera) { videoArriving = true; lastSample = null; } // judge the frames afresh
    showRemoteMedia();
  } else if (m.type === "peer_connection") {
    // the relay stopped hearing from the other side's browser, or hears it again
    if (ended || m.from === role) return;
    const lost = role === "patient"
      ? _("A conexão do profissional caiu. Aguardando o retorno…")
      : _("A conexão do paciente caiu. Aguardando o retorno…");
    say(m.state === "lost" ? lost : _("Conectado."));
  } else if (m.type === "call_ended") {
    const text = (ENDED_TEXT[m.reason] || ENDED_TEXT.hangup)(m.by);
    const why = m.reason === "hangup" ? (m.by === "patient" ? "patient_hangup" : "") : m.reason;
    finish(text, role === "professional" && why ? `${afterCall}?aviso=${why}` : afterCall);
  } else if (m.type === "requeued") {
    finish(m.message, role === "patient" ? `/paciente/fila?aviso=${m.reason}` : `${afterCall}?aviso=${m.reason}`);
  } else if (m.type === "removed") {
    ended = true;
    stopStats();
    if (pc) pc.close();
    if (localStream) localStream.getTracks().forEach((t) => t.stop());
    fail(m.message);
  } else if (m.type === "chat") {
    showChat(m);
  } else if (m.type === "chat_history") {
    chatLog.replaceChildren();
    m.messages.forEach(showChat);
  } else if (m.type === "replaced") {
    ended = true;
    stopStats();
    if (pc) pc.close();
    fail(REPLACED_TEXT);
  } else if (m.type === "error") {
    fail(m.message);
  }
});

hangup.addEventListener("click", () => {
  hangup.disabled = true;
  socket.send({ type: "hangup" });
});
unmute.addEventListener("click", () => {
  remoteVideo.muted = false;
  remoteVideo.play().catch(() => {});
  unmute.classList.add("d-none");
});
micButton.addEventListener("click", () => toggle("audio"));
cameraButton.addEventListener("click", () => toggle("video"));
chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = chatText.value.trim();
  if (!text) return;
  socket.send({ type: "chat", text });
  chatText.value = "";
});

(async () => {
  try {
    localStream = await getMedia();
  } catch (error) {
    fail(mediaErrorText(error));
    return;
  }
  localVideo.srcObject = localStream;
  showLocalMedia();
  sendMediaState();
  watchStats();
  await startMedia();
})();
