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

from relay.probe import AudioMeasure, NetworkMeasure, ProbeReport, VideoMeasure


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Verdict:
    item: str  # "camera", "microphone", "network"
    level: Level
    text: str  # for the patient
    tag: str = ""  # for the professional's list ("" when ok)


def camera(video: VideoMeasure | None) -> Verdict:
    if video is None:
        return Verdict(
            "camera", Level.PROBLEM,
            "Câmera indisponível. Verifique se ela está conectada e se outro programa não a está"
            " usando. Você ainda pode ser atendido só com áudio.",
            "câmera indisponível",
        )  # fmt: skip
    if video.frames == 0:
        return Verdict("camera", Level.PROBLEM, "Não recebemos imagem da sua câmera.", "sem imagem")
    if video.black_frames > video.frames / 2:
        return Verdict(
            "camera", Level.PROBLEM,
            "Sua câmera parece coberta ou o ambiente está escuro. Descubra a câmera e"
            " procure um lugar iluminado.",
            "câmera escura",
        )  # fmt: skip
    if video.brightness < 40:
        return Verdict(
            "camera", Level.WARNING,
            "A imagem está escura. Acenda uma luz ou fique de frente para uma janela.",
            "imagem escura",
        )  # fmt: skip
    if video.fps < 10:
        return Verdict(
            "camera", Level.WARNING,
            "A imagem está chegando com poucos quadros por segundo e pode travar.",
            "imagem travando",
        )  # fmt: skip
    if video.frozen_frames > video.frames / 2:
        return Verdict(
            "camera", Level.WARNING,
            "A imagem parece parada. Verifique se a câmera certa está escolhida.",
            "imagem parada",
        )  # fmt: skip
    if video.width < 320:
        return Verdict(
            "camera", Level.WARNING, "A imagem da câmera está pequena (baixa resolução).",
            "baixa resolução",
        )  # fmt: skip
    return Verdict(
        "camera", Level.OK,
        f"Câmera funcionando: {video.width}×{video.height}, {video.fps:.0f} quadros por segundo.",
    )  # fmt: skip


def microphone(audio: AudioMeasure | None) -> Verdict:
    if audio is None:
        return Verdict(
            "microphone", Level.PROBLEM,
            "Microfone indisponível. Verifique se ele está conectado e permitido no navegador.",
            "sem áudio",
        )  # fmt: skip
    if audio.silent:
        return Verdict(
            "microphone", Level.PROBLEM,
            "Não captamos nenhum som do seu microfone. Verifique se ele não está no mudo.",
            "sem áudio",
        )  # fmt: skip
    if audio.rms_dbfs < -45:
        return Verdict(
            "microphone", Level.WARNING,
            "O som do seu microfone está muito baixo. Fale mais perto dele.",
            "som baixo",
        )  # fmt: skip
    if audio.clipped_fraction > 0.01:
        return Verdict(
            "microphone", Level.WARNING,
            "O som está distorcido (alto demais). Afaste um pouco o microfone.",
            "som distorcido",
        )  # fmt: skip
    return Verdict("microphone", Level.OK, "Microfone funcionando.")


def network(net: NetworkMeasure) -> Verdict:
    loss, rtt, jitter = net.loss_percent or 0.0, net.rtt_ms or 0.0, net.jitter_ms or 0.0
    via = " (pela rede de apoio)" if net.path == "relay" else ""
    if loss > 5 or rtt > 400:
        return Verdict(
            "network", Level.PROBLEM,
            f"Sua conexão está instável{via}: a chamada pode falhar. Aproxime-se do roteador"
            " Wi-Fi ou use outra rede.",
            "rede fraca",
        )  # fmt: skip
    if loss > 2 or rtt > 250 or jitter > 50:
        return Verdict(
            "network", Level.WARNING,
            f"Sua conexão está um pouco lenta{via}; a imagem pode falhar às vezes.",
            "rede lenta",
        )  # fmt: skip
    if net.rtt_ms is None and net.loss_percent is None:
        return Verdict("network", Level.OK, f"Conexão feita{via}; a qualidade não pôde ser medida.")
    return Verdict("network", Level.OK, f"Conexão boa{via}.")


def verdicts(report: ProbeReport) -> list[Verdict]:
    return [camera(report.video), microphone(report.audio), network(report.network)]


def summary(found: list[Verdict], speaker_heard: bool | None) -> str:
    """A few words for the professional's list ("" when everything is fine)."""
    tags = [v.tag for v in found if v.level is not Level.OK and v.tag]
    if speaker_heard is False:
        tags.append("não ouviu o som")
    return ", ".join(dict.fromkeys(tags))
