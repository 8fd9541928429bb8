"""Device-test verdicts in words a patient understands, and the professional's summary (pure).

Thresholds (documented in docs/device-test.md):
- camera: none -> problem; no frames -> problem; mostly black frames -> problem (covered or dark);
  mean brightness below 40 -> warning (dark); under 10 frames/s -> warning; over half of the frames
  frozen -> warning; narrower than 320 px -> warning.
- microphone: none -> problem; silence (below -60 dBFS) -> problem; below -45 dBFS -> warning
  (quiet); over 1% of samples clipped -> warning (distorted).
- network: loss over 5% or round trip over 400 ms -> problem; loss over 2%, round trip over 250 ms
  or jitter over 50 ms -> warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from relay.probe import AudioMeasure, NetworkMeasure, ProbeReport, VideoMeasure
from web.text import Text, _, join


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Verdict:
    item: str  # "camera", "microphone", "network"
    level: Level
    text: str  # for the patient (a web.text.Text, translated when sent)
    tag: str = ""  # for the professional's list ("" when ok)


def camera(video: VideoMeasure | None) -> Verdict:
    if video is None:
        return Verdict(
            "camera", Level.PROBLEM,
            _("Câmera indisponível. Verifique se ela está conectada e se outro programa não a"
              " está usando. Você ainda pode ser atendido só com áudio."),
            _("câmera indisponível"),
        )  # fmt: skip
    if video.frames == 0:
        return Verdict(
            "camera", Level.PROBLEM, _("Não recebemos imagem da sua câmera."), _("sem imagem")
        )
    if video.black_frames > video.frames / 2:
        return Verdict(
            "camera", Level.PROBLEM,
            _("Sua câmera parece coberta ou o ambiente está escuro. Descubra a câmera e"
              " procure um lugar iluminado."),
            _("câmera escura"),
        )  # fmt: skip
    if video.brightness < 40:
        return Verdict(
            "camera", Level.WARNING,
            _("A imagem está escura. Acenda uma luz ou fique de frente para uma janela."),
            _("imagem escura"),
        )  # fmt: skip
    if video.fps < 10:
        return Verdict(
            "camera", Level.WARNING,
            _("A imagem está chegando com poucos quadros por segundo e pode travar."),
            _("imagem travando"),
        )  # fmt: skip
    if video.frozen_frames > video.frames / 2:
        return Verdict(
            "camera", Level.WARNING,
            _("A imagem parece parada. Verifique se a câmera certa está escolhida."),
            _("imagem parada"),
        )  # fmt: skip
    if video.width < 320:
        return Verdict(
            "camera", Level.WARNING, _("A imagem da câmera está pequena (baixa resolução)."),
            _("baixa resolução"),
        )  # fmt: skip
    return Verdict(
        "camera", Level.OK,
        _("Câmera funcionando: %(width)d×%(height)d, %(fps).0f quadros por segundo.",
          width=video.width, height=video.height, fps=video.fps),
    )  # fmt: skip


def microphone(audio: AudioMeasure | None) -> Verdict:
    if audio is None:
        return Verdict(
            "microphone", Level.PROBLEM,
            _("Microfone indisponível. Verifique se ele está conectado e permitido no navegador."),
            _("sem áudio"),
        )  # fmt: skip
    if audio.silent:
        return Verdict(
            "microphone", Level.PROBLEM,
            _("Não captamos nenhum som do seu microfone. Verifique se ele não está no mudo."),
            _("sem áudio"),
        )  # fmt: skip
    if audio.rms_dbfs < -45:
        return Verdict(
            "microphone", Level.WARNING,
            _("O som do seu microfone está muito baixo. Fale mais perto dele."),
            _("som baixo"),
        )  # fmt: skip
    if audio.clipped_fraction > 0.01:
        return Verdict(
            "microphone", Level.WARNING,
            _("O som está distorcido (alto demais). Afaste um pouco o microfone."),
            _("som distorcido"),
        )  # fmt: skip
    return Verdict("microphone", Level.OK, _("Microfone funcionando."))


def network(net: NetworkMeasure) -> Verdict:
    loss, rtt, jitter = net.loss_percent or 0.0, net.rtt_ms or 0.0, net.jitter_ms or 0.0
    via: str = _(" (pela rede de apoio)") if net.path == "relay" else ""
    if loss > 5 or rtt > 400:
        return Verdict(
            "network", Level.PROBLEM,
            _("Sua conexão está instável%(via)s: a chamada pode falhar. Aproxime-se do roteador"
              " Wi-Fi ou use outra rede.", via=via),
            _("rede fraca"),
        )  # fmt: skip
    if loss > 2 or rtt > 250 or jitter > 50:
        return Verdict(
            "network", Level.WARNING,
            _("Sua conexão está um pouco lenta%(via)s; a imagem pode falhar às vezes.", via=via),
            _("rede lenta"),
        )  # fmt: skip
    if net.rtt_ms is None and net.loss_percent is None:
        text = _("Conexão feita%(via)s; a qualidade não pôde ser medida.", via=via)
        return Verdict("network", Level.OK, text)
    return Verdict("network", Level.OK, _("Conexão boa%(via)s.", via=via))


def verdicts(report: ProbeReport) -> list[Verdict]:
    return [camera(report.video), microphone(report.audio), network(report.network)]


NO_TEST = _("sem teste")  # the summary of a patient who did not take the test
SEPARATOR = ", "


def summary(found: list[Verdict], speaker_heard: bool | None) -> str:
    """A few words for the professional's list ("" when everything is fine), as stored."""
    tags = [v.tag for v in found if v.level is not Level.OK and v.tag]
    if speaker_heard is False:
        tags.append(_("não ouviu o som"))
    return SEPARATOR.join(dict.fromkeys(tags))


@lru_cache(maxsize=1024)
def summary_text(stored: str) -> Text:
    """A stored summary ("câmera escura, som baixo"), each of its words translatable."""
    return join(SEPARATOR, [_(tag) for tag in stored.split(SEPARATOR) if tag])
