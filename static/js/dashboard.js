// Professional's list of waiting patients, pushed live by the server.
import { openSocket, REPLACED_TEXT } from "./socket.js";

const list = document.getElementById("waiting-list");
const count = document.getElementById("waiting-count");
const status = document.getElementById("status");
let patients = [];
let receivedAt = Date.now();

function minutes(seconds) {
  const m = Math.floor(seconds / 60);
  return m < 1 ? "menos de 1 min" : `${m} min`;
}

function render() {
  count.textContent = String(patients.length);
  list.replaceChildren();
  if (!patients.length) {
    const row = list.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 4;
    cell.className = "text-secondary";
    cell.textContent = "Ninguém aguardando.";
    return;
  }
  const elapsed = (Date.now() - receivedAt) / 1000;
  for (const p of patients) {
    const row = list.insertRow();
    row.insertCell().textContent = `${p.position}º`;
    row.insertCell().textContent = p.first_name;
    row.insertCell().textContent = minutes(p.waiting_seconds + elapsed);
    row.insertCell().textContent = p.priority;
  }
}

openSocket("professional", (m) => {
  if (m.type === "waiting_list") {
    patients = m.patients;
    receivedAt = Date.now();
    status.textContent = "Lista atualizada automaticamente.";
    render();
  } else if (m.type === "hello" && (m.state === "called" || m.state === "in_call")) {
    location.assign("/profissional/consulta");
  } else if (m.type === "replaced") {
    status.textContent = REPLACED_TEXT;
  }
}, (state) => {
  if (state === "reconnecting") status.textContent = "Conexão perdida. Reconectando…";
});

setInterval(render, 30000);
