// Camera and microphone access and the offer's ICE gathering, shared by the call and device test.
import { _ } from "./i18n.js";

// How to lift a block on camera and microphone, in the browser the patient is using.
export function howToAllow(userAgent = navigator.userAgent) {
  if (/Firefox\//.test(userAgent)) {
    return _("No Firefox: clique no ícone de câmera riscada à esquerda do endereço, escolha \"Remover permissão\" (ou \"Permitir\") e recarregue a página.");
  }
  if (/Safari\//.test(userAgent) && !/(Chrome|Chromium|CriOS|Edg)\//.test(userAgent)) {
    return _("No Safari: abra o menu Safari > Ajustes para este site (no iPhone, toque em \"aA\" na barra de endereço), em Câmera e Microfone escolha \"Permitir\" e recarregue a página.");
  }
  if (/Edg\//.test(userAgent)) {
    return _("No Edge: clique no cadeado à esquerda do endereço, em Câmera e Microfone escolha \"Permitir\" e recarregue a página.");
  }
  return _("No Chrome: clique no ícone à esquerda do endereço (cadeado ou ajustes), ative Câmera e Microfone e recarregue a página.");
}

export const MEDIA_ERRORS = {
  NotAllowedError: _("O acesso à câmera e ao microfone foi bloqueado."),
  NotFoundError: _("Nenhuma câmera ou microfone foi encontrado neste aparelho."),
  NotReadableError: _("A câmera ou o microfone está em uso por outro programa. Feche-o e recarregue a página."),
  SecurityError: _("Esta página precisa ser aberta com https para usar a câmera e o microfone."),
};

export function mediaErrorText(error) {
  if (error.name === "NotAllowedError") return `${MEDIA_ERRORS.NotAllowedError} ${howToAllow()}`;
  return MEDIA_ERRORS[error.name] || _("Não foi possível usar a câmera e o microfone (%(error)s).", { error: error.name });
}

// Camera and microphone; with one of them missing or busy, whatever is available.
export async function getMedia() {
  if (!navigator.mediaDevices) throw Object.assign(new Error("insecure"), { name: "SecurityError" });
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch (error) {
    if (error.name === "NotFoundError" || error.name === "NotReadableError" || error.name === "OverconstrainedError") {
      for (const constraints of [{ audio: true }, { video: true }]) {
        try { return await navigator.mediaDevices.getUserMedia(constraints); } catch { /* next */ }
      }
    }
    throw error;
  }
}

// Resolves when every ICE candidate is in the local description (or after `ms`).
export function waitForGathering(connection, ms = 3000) {
  if (connection.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    connection.addEventListener("icegatheringstatechange", () => {
      if (connection.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
    });
  });
}

// A short sine tone on the speakers (arrival alerts, the speaker check); silent if audio is unavailable.
export function playTone(frequency, seconds, volume = 0.3) {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(volume, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + seconds);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + seconds);
  } catch { /* no audio output */ }
}
