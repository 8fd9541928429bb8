// Professional's list of waiting patients, pushed live; availability, arrival alerts, removal.
import { _, ngettext } from "./i18n.js";
import { playTone } from "./media.js";
import { openSocket, REPLACED_TEXT } from "./socket.js";

const root = document.getElementById("dashboard");
const list = document.getElementById("waiting-list");
const count = document.getElementById("waiting-count");
const status = document.getElementById("status");
const arrival = document.getElementById("arrival");
const availability = document.getElementById("availability");
const enableNotifications = document.getElementById("enable-notifications");
const removeDialog = new bootstrap.Modal(document.getElementById("remove-dialog"));
const removeForm = document.getElementById("remove-form");
const removeWho = document.getElementById("remove-who");

let available = root.dataset.available === "true";
let patients = [];
let known = null; // ticket ids seen so far (null until the first list)
let receivedAt = Date.now();
let removing = null;

function minutes(seconds) {
  const m = Math.floor(seconds / 60);
  return m < 1 ? _("menos de 1 min") : _("%(m)s min", { m });
}

function render() {
  count.textContent = String(patients.length);
  const title = `${_("Fila de pacientes")} · Atende`;
  document.title = patients.length ? `(${patients.length}) ${title}` : title;
  list.replaceChildren();
  if (!patients.length) {
    const cell = list.insertRow().insertCell();
    cell.colSpan = 6;
    cell.className = "text-secondary";
    cell.textContent = _("Ninguém aguardando.");
    return;
  }
  const elapsed = (Date.now() - receivedAt) / 1000;
  for (const p of patients) {
    const row = list.insertRow();
    row.insertCell().textContent = _("%(position)sº", { position: p.position });
    row.insertCell().textContent = p.first_name;
    row.insertCell().textContent = minutes(p.waiting_seconds + elapsed);
    row.insertCell().textContent = p.priority || "—";
    row.insertCell().textContent = p.device || "ok";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-danger";
    button.textContent = _("Retirar");
    button.setAttribute("aria-label", _("Retirar %(name)s da fila", { name: p.first_name }));
    button.addEventListener("click", () => {
      removing = p.ticket;
      removeWho.textContent = _("Retirar %(name)s (posição %(position)s) da fila?", { name: p.first_name, position: p.position });
      removeDialog.show();
    });
    row.insertCell().append(button);
  }
}


function announce(newcomers) {
  const names = newcomers.map((p) => p.first_name).join(", ");
  const text = ngettext("Novo paciente na fila: %(names)s", "Novos pacientes na fila: %(names)s", newcomers.length, { names });
  arrival.textContent = text;
  arrival.classList.remove("d-none");
  playTone(880, 0.6, 0.2);
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("Atende", { body: text, tag: "atende-arrival" });
  }
}

function showAvailability() {
  availability.textContent = available ? _("Disponível — pausar") : _("Em pausa — ficar disponível");
  availability.setAttribute("aria-pressed", String(available));
  availability.classList.toggle("btn-outline-secondary", available);
  availability.classList.toggle("btn-warning", !available);
}

const socket = openSocket("professional", (m) => {
  if (m.type === "waiting_list") {
    const newcomers = known ? m.patients.filter((p) => !known.has(p.ticket)) : [];
    known = new Set(m.patients.map((p) => p.ticket));
    patients = m.patients;
    receivedAt = Date.now();
    status.textContent = _("Lista atualizada automaticamente.");
    render();
    if (newcomers.length && available) announce(newcomers);
  } else if (m.type === "hello") {
    if (m.state === "called" || m.state === "in_call") location.assign("/profissional/consulta");
    available = m.available;
    showAvailability();
  } else if (m.type === "availability") {
    available = m.available;
    showAvailability();
  } else if (m.type === "replaced") {
    status.textContent = REPLACED_TEXT;
  } else if (m.type === "error") {
    status.textContent = m.message;
  }
}, (state) => {
  if (state === "reconnecting") status.textContent = _("Conexão perdida. Reconectando…");
});

availability.addEventListener("click", () => socket.send({ type: "availability", available: !available }));
removeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = new FormData(removeForm).get("reason");
  if (removing !== null) socket.send({ type: "remove", ticket: removing, reason });
  removeDialog.hide();
});
if ("Notification" in window && Notification.permission === "default") {
  enableNotifications.classList.remove("d-none");
  enableNotifications.addEventListener("click", async () => {
    await Notification.requestPermission();
    enableNotifications.classList.add("d-none");
  });
}
showAvailability();
setInterval(render, 30000);
