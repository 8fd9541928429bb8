// Waiting page: live queue position, estimate and notices pushed by the server.
import { _, ngettext } from "./i18n.js";
import { openSocket, REPLACED_TEXT } from "./socket.js";

const position = document.getElementById("position");
const total = document.getElementById("waiting-total");
const estimate = document.getElementById("estimate");
const professionals = document.getElementById("professionals");
const status = document.getElementById("status");
const announcement = document.getElementById("position-announcement");
const removed = document.getElementById("removed");
const leave = document.getElementById("leave");

let announced = null; // the position last read out to screen readers

function stop(text) {
  removed.textContent = text;
  announcement.textContent = "";
  removed.classList.remove("d-none");
  position.textContent = "—";
  total.textContent = "";
  estimate.textContent = "";
  professionals.textContent = "";
  status.textContent = "";
  leave.classList.add("d-none");
}

const socket = openSocket("patient", (m) => {
  if (m.type === "queue") {
    position.textContent = _("%(position)sº", { position: m.position });
    if (m.position !== announced) { // only a change is read out, not every update
      announced = m.position;
      announcement.textContent = _("Sua posição na fila: %(position)sº", { position: m.position });
    }
    total.textContent = ngettext("%(num)d pessoa na fila", "%(num)d pessoas na fila", m.waiting);
    estimate.textContent = m.estimate;
    professionals.textContent = ngettext(
      "%(num)d profissional atendendo agora", "%(num)d profissionais atendendo agora", m.professionals);
    status.textContent = m.position === 1 ? _("Você é o próximo a ser atendido.") : _("Aguarde, você será chamado.");
  } else if (m.type === "hello") {
    if (m.state === "called" || m.state === "in_call") location.assign("/paciente/consulta");
    else if (m.state !== "waiting") location.assign("/paciente/entrar");
  } else if (m.type === "called") {
    status.textContent = _("Chegou a sua vez! Abrindo a chamada de vídeo…");
    location.assign("/paciente/consulta");
  } else if (m.type === "left") {
    location.assign("/?aviso=saiu");
  } else if (m.type === "removed") {
    socket.close();
    stop(m.message);
  } else if (m.type === "replaced") {
    stop(REPLACED_TEXT);
  } else if (m.type === "error") {
    status.textContent = m.message;
  }
}, (state) => {
  if (state === "reconnecting") status.textContent = _("Conexão perdida. Reconectando… seu lugar na fila está guardado.");
});

leave.addEventListener("click", () => {
  if (confirm(_("Tem certeza de que quer sair da fila? Você perderá o seu lugar."))) socket.send({ type: "leave" });
});
