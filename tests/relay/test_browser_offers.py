"""The relay's answers to offers shaped like today's browsers' (tests/relay/offers/*.sdp).

The fixtures keep each browser's shape: its m-lines and payload types, fmtp lines (H.264
profiles and packetization modes), RTX/RED/FEC entries, header extensions, BUNDLE group, mDNS and
TCP candidates, and a re-offer whose stopped video section has port 0. Their addresses are
127.0.0.1, so the relay's connectivity checks stay on this machine.
"""

from pathlib import Path

import pytest
from aiortc.sdp import MediaDescription, SessionDescription

from relay.codecs import is_rtx
from relay.relay import Relay

OFFERS = Path(__file__).parent / "offers"

# fixture -> the codec the relay must pick for (audio, video); None: section rejected
EXPECTED = {
    "chrome-130-desktop.sdp": ("opus", "vp8"),
    "chrome-130-android.sdp": ("opus", "vp8"),
    "firefox-133.sdp": ("opus", "vp8"),
    "safari-18-ios.sdp": ("opus", "h264"),  # H.264 only: no VP8 offered
    "chrome-130-camera-stopped.sdp": ("opus", None),
}


def codec_key(media: MediaDescription, pt: int) -> tuple[str, int, str]:
    codec = next(c for c in media.rtp.codecs if c.payloadType == pt)
    packetization = str(codec.parameters.get("packetization-mode", "0"))
    return codec.mimeType.lower(), codec.clockRate, packetization


def test_every_browser_has_a_fixture() -> None:
    assert sorted(p.name for p in OFFERS.glob("*.sdp")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_answer_matches_the_browsers_offer(relay: Relay, name: str) -> None:
    offer_text = (OFFERS / name).read_text()
    offer = SessionDescription.parse(offer_text)
    answer = SessionDescription.parse(await relay.answer("patient", offer_text))
    try:
        # One answer section per offer section, same kinds and mids, in the same order.
        assert [(m.kind, m.rtp.muxId) for m in answer.media] == [
            (m.kind, m.rtp.muxId) for m in offer.media
        ]
        # BUNDLE: the answer bundles exactly the offer's accepted mids.
        offered_bundle = next(g.items for g in offer.group if g.semantic == "BUNDLE")
        accepted = [m.rtp.muxId for m in answer.media if m.port != 0]
        assert [g.items for g in answer.group if g.semantic == "BUNDLE"] == [accepted]
        assert set(accepted) <= set(offered_bundle)

        chosen = []
        for offered, answered in zip(offer.media, answer.media, strict=True):
            if offered.port == 0:  # a rejected section stays rejected
                assert answered.port == 0
                chosen.append(None)
                continue
            # Every payload type in the answer exists in the offer, as the same codec.
            for codec in answered.rtp.codecs:
                assert codec.payloadType in offered.fmt, (name, codec)
                assert codec_key(answered, codec.payloadType) == codec_key(
                    offered, codec.payloadType
                ), (name, codec)
                if is_rtx(codec):  # and RTX points at a codec of the answer
                    assert codec.parameters["apt"] in {c.payloadType for c in answered.rtp.codecs}
            media_codecs = [c for c in answered.rtp.codecs if not is_rtx(c)]
            # One codec per kind: the browser can only send what the relay forwards.
            assert len({c.mimeType.lower() for c in media_codecs}) == 1, (name, media_codecs)
            chosen.append(media_codecs[0].mimeType.split("/")[1].lower())
            assert answered.dtls is not None and answered.dtls.role in ("client", "server")
        assert tuple(chosen) == EXPECTED[name]
    finally:
        await relay.close_peer("patient")


async def test_safari_and_chrome_in_one_call_agree_on_h264(relay: Relay) -> None:
    """Safari answered first: Chrome's leg takes H.264 too, so nothing is transcoded."""
    relay.pair("patient", "professional")
    try:
        await relay.answer("patient", (OFFERS / "safari-18-ios.sdp").read_text())
        await relay.answer("professional", (OFFERS / "chrome-130-desktop.sdp").read_text())
        legs = [relay.peer("patient"), relay.peer("professional")]
        assert [leg.codecs for leg in legs if leg] == [{"audio": "opus", "video": "h264"}] * 2
    finally:
        await relay.close_peer("patient")
        await relay.close_peer("professional")
