// Call page (patient and professional): one RTCPeerConnection to the server's media relay.
import { getMedia, mediaErrorText, waitForGathering } from "./media.js";
import { openSocket, REPLACED_TEXT } from "./socket.js";

const root = document.getElementById("call");
const role = root.dataset.role;
const afterCall = root.dataset.afterCall;
const iceServers = JSON.parse(root.dataset.iceServers || "[]");
const statusEl = document.getElementById("call-status");
const errorEl = document.getElementById("call-error");
const localVideo = document.getElementById("local-video");
const remoteVideo = document.getElementById("remote-video");
const hangup = document.getElementById("hangup");
const unmute = document.getElementById("unmute");
const chatLog = document.getElementById("chat-log");
const chatForm = document.getElementById("chat-form");
const chatText = document.getElementById("chat-text");

const remoteStream = new MediaStream();
remoteVideo.srcObject = remoteStream;
let pc = null;
let localStream = null;
let ended = false;
let greeted = false; // a second "hello" means the socket reconnected

function say(text) { statusEl.textContent = text; }
function fail(text) { errorEl.textContent = text; errorEl.classList.remove("d-none"); }

async function startMedia() {
  if (pc) pc.close();
  for (const track of remoteStream.getTracks()) remoteStream.removeTrack(track);
  pc = new RTCPeerConnection({ iceServers });
  window.atendeCall = { pc };
  for (const kind of ["audio", "video"]) {
    const track = localStream.getTracks().find((t) => t.kind === kind);
    if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [localStream] });
    else pc.addTransceiver(kind, { direction: "recvonly" });
  }
  pc.addEventListener("track", (event) => {
    remoteStream.addTrack(event.track);
    remoteVideo.play().catch(() => unmute.classList.remove("d-none"));
  });
  pc.addEventListener("connectionstatechange", () => {
    if (ended) return;
    if (pc.connectionState === "connected") say("Conectado.");
    else if (pc.connectionState === "failed") say("A conexão de vídeo falhou. Tentando de novo…");
    else if (pc.connectionState === "disconnected") say("Conexão instável…");
  });
  await pc.setLocalDescription(await pc.createOffer());
  await waitForGathering(pc);
  socket.send({ type: "offer", sdp: pc.localDescription.sdp });
  say("Conectando ao atendimento…");
}

function finish(text, next = afterCall) {
  ended = true;
  say(text);
  if (pc) pc.close();
  if (localStream) localStream.getTracks().forEach((t) => t.stop());
  hangup.disabled = true;
  setTimeout(() => location.assign(next), 800);
}

function showChat(message) {
  const item = document.createElement("li");
  const who = document.createElement("strong");
  who.textContent = message.from === role ? "Você: " : (role === "patient" ? "Profissional: " : "Paciente: ");
  item.append(who, document.createTextNode(message.text)); // text, never HTML
  chatLog.append(item);
  chatLog.scrollTop = chatLog.scrollHeight;
}

const ENDED_TEXT = {
  hangup: (by) => (by === role ? "Atendimento encerrado." : "O atendimento foi encerrado pelo outro lado."),
  lost: () => (role === "professional" ? "O paciente perdeu a conexão." : "Atendimento encerrado."),
};

const socket = openSocket(role, async (m) => {
  if (m.type === "answer" && pc) {
    await pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
  } else if (m.type === "hello") {
    if (m.state !== "called" && m.state !== "in_call") finish("Este atendimento já terminou.");
    else if (greeted && localStream && !ended) await startMedia(); // reconnected: renegotiate
    greeted = true;
  } else if (m.type === "call_ended") {
    const text = (ENDED_TEXT[m.reason] || ENDED_TEXT.hangup)(m.by);
    finish(text, role === "professional" && m.reason !== "hangup" ? `${afterCall}?aviso=${m.reason}` : afterCall);
  } else if (m.type === "requeued") {
    finish(m.message, role === "patient" ? `/paciente/fila?aviso=${m.reason}` : `${afterCall}?aviso=${m.reason}`);
  } else if (m.type === "removed") {
    ended = true;
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
unmute.addEventListener("click", () => { remoteVideo.play(); unmute.classList.add("d-none"); });
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
  await startMedia();
})();
