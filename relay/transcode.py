"""Transcoder: decodes a source's encoded frames for a sink whose browser wants another codec.

Forwarding encoded media is the rule. Only when the two browsers of a call share no codec for a
kind (Safari offering H.264 only, against a browser offering VP8 only) does a ForwardTrack carry
decoded frames for that direction, and aiortc's sender encodes them in the sink's codec. Each
direction is decided on its own: a direction whose codecs match stays encoded passthrough.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import av
from aiortc import RTCRtpCodecParameters

from relay.aiortc_hooks import media_decoder
from relay.passthrough import EncodedPacket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Encoded:
    """What aiortc's decoders read (the shape of aiortc.jitterbuffer.JitterFrame)."""

    data: bytes
    timestamp: int


class Transcoder:
    """Decodes one source's encoded frames (call decode() in a worker thread, one at a time).

    source_codec: the source leg's codec name ("vp8", "h264", "opus", "pcmu", …) and clock rate.
    Frames keep the packet's pts in the source clock; aiortc's encoder rescales them.
    """

    def __init__(self, kind: str, source_codec: str, clock_rate: int) -> None:
        self.kind = kind
        self.source_codec = source_codec
        self._decoder = media_decoder(
            RTCRtpCodecParameters(
                mimeType=f"{kind}/{source_codec}",
                clockRate=clock_rate,
                channels=2 if source_codec == "opus" else None,
            )
        )
        self.failures = 0

    def decode(self, packet: EncodedPacket) -> list[av.VideoFrame | av.AudioFrame]:
        """The frames in one encoded frame; [] when it cannot be decoded (counted in failures)."""
        try:
            frames = self._decoder.decode(_Encoded(bytes(packet), packet.pts or 0))
        except Exception:  # a damaged frame: the caller waits for the next keyframe
            self.failures += 1
            logger.debug("transcoder %s: frame not decodable", self.source_codec, exc_info=True)
            return []
        return list(frames)
