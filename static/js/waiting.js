// Waiting page: live queue position, estimate and notices pushed by the server.
import { openSocket, REPLACED_TEXT } from "./socket.js";

const position = document.getElementById("position");
const total = document.getElementById("waiting-total");
const estimate = document.getElementById("estimate");
const professionals = document.getElementById("professionals");
const status = document.getElementById("status");
const removed = document.getElementById("removed");
const leave = document.getElementById("leave");

function stop(text) {
  removed.textContent = text;
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
    position.textContent = `${m.position}º`;
    total.textContent = m.waiting === 1 ? "1 pessoa na fila" : `${m.waiting} pessoas na fila`;
    estimate.textContent = m.estimate;
    professionals.textContent = m.professionals === 1
      ? "1 profissional atendendo agora"
      : `${m.professionals} profissionais atendendo agora`;
    status.textContent = m.position === 1 ? "Você é o próximo a ser atendido." : "Aguarde, você será chamado.";
  } else if (m.type === "hello") {
    if (m.state === "called" || m.state === "in_call") location.assign("/paciente/consulta");
    else if (m.state !== "waiting") location.assign("/paciente/entrar");
  } else if (m.type === "called") {
    status.textContent = "Chegou a sua vez! Abrindo a chamada de vídeo…";
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
  if (state === "reconnecting") status.textContent = "Conexão perdida. Reconectando… seu lugar na fila está guardado.";
});

leave.addEventListener("click", () => {
  if (confirm("Tem certeza de que quer sair da fila? Você perderá o seu lugar.")) socket.send({ type: "leave" });
});
