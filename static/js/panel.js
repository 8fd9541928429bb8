// Management panel: figures, charts and relay statistics, refreshed every 5 seconds.
import { _, lang, number as formatNumber } from "./i18n.js";

const root = document.getElementById("panel");
const status = document.getElementById("panel-status");
const charts = {};

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

function number(value, digits = 0) {
  return value === null || value === undefined ? "—" : formatNumber(value, digits);
}

function showOverview(data) {
  const o = data.overview;
  const p = data.professionals;
  const text = {
    waiting_now: number(o.waiting_now),
    in_call_now: number(o.in_call_now),
    professionals: `${p.online} (${p.available} / ${p.paused})`,
    visits_today: number(o.visits_today),
    average_wait_s: duration(o.average_wait_s),
    longest_wait_s: duration(o.longest_wait_s),
    average_duration_s: duration(o.average_duration_s),
    average_rating: number(o.average_rating, 1),
  };
  for (const [key, value] of Object.entries(text)) {
    const el = root.querySelector(`[data-figure="${key}"]`);
    if (el) el.textContent = value;
  }
  for (const [id, series, label] of [["chart-waiting", "waiting", _("Pacientes na fila")], ["chart-visits", "visits", _("Atendimentos")]]) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) continue;
    const values = data.hourly[series];
    const labels = values.map((_, h) => `${String(h).padStart(2, "0")}h`);
    if (!charts[id]) {
      charts[id] = new window.Chart(canvas, {
        type: "bar",
        data: { labels, datasets: [{ label, data: values, backgroundColor: "#0d6efd" }] },
        options: { animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
      });
    } else {
      charts[id].data.labels = labels;
      charts[id].data.datasets[0].data = values;
      charts[id].update();
    }
  }
}

function showRelay(data) {
  const table = document.getElementById("relay-table");
  if (!table) return;
  const relay = data.relay;
  if (relay) {
    for (const [key, value] of Object.entries(relay.process)) {
      const el = root.querySelector(`[data-process="${key}"]`);
      if (el) el.textContent = number(value, 1);
    }
  }
  table.replaceChildren();
  const peers = relay ? relay.peers : [];
  if (!peers.length) {
    const cell = table.insertRow().insertCell();
    cell.colSpan = 11;
    cell.className = "text-secondary";
    cell.textContent = _("Nenhuma conexão ativa.");
    return;
  }
  for (const peer of peers) {
    for (const d of peer.directions) {
      const row = table.insertRow();
      const cells = [
        peer.peer_id,
        peer.path === "relay" ? "TURN" : peer.path === "direct" ? _("direto") : "—",
        d.kind === "video" ? _("vídeo") : _("áudio"),
        d.direction === "in" ? _("recebendo") : _("enviando"),
        `${d.codec || "—"} · ${handling(peer, d)}`,
        number(d.bitrate_kbps),
        `${number(d.loss_percent, 1)} %`,
        d.jitter_ms === null ? "—" : `${number(d.jitter_ms, 1)} ms`,
        d.rtt_ms === null ? "—" : `${number(d.rtt_ms, 1)} ms`,
        number(d.keyframe_requests),
        duration(peer.duration_s),
      ];
      cells.forEach((value, i) => {
        const cell = row.insertCell();
        cell.textContent = value;
        if (i >= 5 && i <= 9) cell.className = "text-end";
      });
    }
  }
}

// Forwarded as the browser encoded it, transcoded (no codec shared), or a device test's decoding.
function handling(peer, d) {
  if (!peer.forwarded) return _("teste (decodificado)");
  return d.transcoded ? _("transcodificado") : _("encaminhado");
}

async function refresh() {
  try {
    const response = await fetch(root.dataset.source, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    if (root.querySelector("[data-figure]")) showOverview(data);
    showRelay(data);
    const time = new Date().toLocaleTimeString(lang, { timeZone: root.dataset.timezone });
    status.textContent = _("Atualizado às %(time)s.", { time });
  } catch (error) {
    status.textContent = _("Não foi possível atualizar agora; tentando de novo…");
  }
}

refresh();
setInterval(refresh, 5000);
