from relay.probe import AudioMeasure, NetworkMeasure, ProbeReport, VideoMeasure
from web.device_check import Level, camera, microphone, network, summary, verdicts

GOOD_VIDEO = VideoMeasure(
    width=640, height=480, fps=30.0, frames=240, frozen_frames=2, brightness=120.0, black_frames=0
)
GOOD_AUDIO = AudioMeasure(
    rms_dbfs=-20.0, peak_dbfs=-6.0, silent=False, clipped_fraction=0.0, samples=384000
)
GOOD_NET = NetworkMeasure(rtt_ms=20.0, loss_percent=0.0, jitter_ms=3.0, path="direct")


def video(**changes: float) -> VideoMeasure:
    return VideoMeasure(**{**GOOD_VIDEO.__dict__, **changes})


def audio(**changes: object) -> AudioMeasure:
    return AudioMeasure(**{**GOOD_AUDIO.__dict__, **changes})


def test_everything_fine() -> None:
    found = verdicts(ProbeReport(GOOD_VIDEO, GOOD_AUDIO, GOOD_NET, 8.0))
    assert [v.level for v in found] == [Level.OK] * 3
    assert found[0].text == "Câmera funcionando: 640×480, 30 quadros por segundo."
    assert summary(found, True) == ""


def test_camera_verdicts() -> None:
    assert camera(None).text.startswith("Câmera indisponível.")
    covered = camera(video(black_frames=200, brightness=3.0))
    assert (covered.level, covered.tag) == (Level.PROBLEM, "câmera escura")
    assert "coberta ou o ambiente está escuro" in covered.text
    assert camera(video(brightness=25.0)).level is Level.WARNING
    assert camera(video(fps=5.0)).tag == "imagem travando"
    assert camera(video(frozen_frames=200)).tag == "imagem parada"
    assert camera(video(width=160, height=120)).tag == "baixa resolução"
    assert camera(video(frames=0)).level is Level.PROBLEM


def test_microphone_verdicts() -> None:
    assert microphone(None).tag == "sem áudio"
    silent = microphone(audio(silent=True, rms_dbfs=-120.0))
    assert (silent.level, silent.tag) == (Level.PROBLEM, "sem áudio")
    assert "Não captamos nenhum som" in silent.text
    assert microphone(audio(rms_dbfs=-50.0)).tag == "som baixo"
    assert microphone(audio(clipped_fraction=0.05)).tag == "som distorcido"


def test_network_verdicts() -> None:
    assert network(NetworkMeasure(30.0, 8.0, 5.0, "direct")).tag == "rede fraca"
    assert network(NetworkMeasure(300.0, 0.0, 5.0, "direct")).tag == "rede lenta"
    relayed = network(NetworkMeasure(30.0, 0.0, 5.0, "relay"))
    assert (relayed.level, relayed.text) == (Level.OK, "Conexão boa (pela rede de apoio).")
    unknown = network(NetworkMeasure(None, None, None, None))
    assert (unknown.level, unknown.text) == (
        Level.OK,
        "Conexão feita; a qualidade não pôde ser medida.",
    )


def test_summary_for_the_professional() -> None:
    found = verdicts(ProbeReport(None, audio(rms_dbfs=-50.0), GOOD_NET, 8.0))
    assert summary(found, False) == "câmera indisponível, som baixo, não ouviu o som"
