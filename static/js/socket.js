// The page's signaling WebSocket: JSON messages (docs/protocol.md), reconnecting on its own.
import { _ } from "./i18n.js";

export function openSocket(role, onMessage, onStatus = () => {}) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}/ws?role=${encodeURIComponent(role)}`;
  let ws = null;
  let delay = 500;
  let stopped = false;
  const pending = [];

  function connect() {
    ws = new WebSocket(url);
    ws.addEventListener("open", () => {
      delay = 500;
      onStatus("open");
      while (pending.length) ws.send(pending.shift());
    });
    ws.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message.type === "replaced") stopped = true;
      onMessage(message);
    });
    ws.addEventListener("close", (event) => {
      if (stopped || event.code === 4000 || event.code === 4001) { onStatus("stopped"); return; }
      onStatus("reconnecting");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 8000);
    });
  }
  connect();

  return {
    send(message) {
      const text = JSON.stringify(message);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text); else pending.push(text);
    },
    close() { stopped = true; if (ws) ws.close(); },
  };
}

export const REPLACED_TEXT =
  _("Esta página foi aberta em outra aba ou janela. Continue por lá, ou recarregue esta página para usá-la aqui.");
