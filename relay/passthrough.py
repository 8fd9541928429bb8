"""PassthroughDecoder: a receiver "decoder" that returns each encoded frame as an av.Packet."""

from __future__ import annotations

import fractions
from typing import Protocol, TypeAlias

import av
from av.stream import Stream

EncodedPacket: TypeAlias = "av.Packet[Stream]"

# Annex-B NAL unit types that start a decodable H.264 picture: IDR slice, sequence parameter set.
_H264_KEYFRAME_NAL_TYPES = frozenset({5, 7})


class EncodedFrame(Protocol):
    """What aiortc's jitter buffer hands a decoder (aiortc.jitterbuffer.JitterFrame)."""

    data: bytes
    timestamp: int


def vp8_is_keyframe(data: bytes) -> bool:
    """A VP8 frame is a keyframe when bit 0 of its frame tag (first byte) is 0 (RFC 6386 9.1)."""
    return bool(data) and data[0] & 0x01 == 0


def h264_is_keyframe(data: bytes) -> bool:
    """An Annex-B H.264 access unit starts a picture if it holds an IDR slice or an SPS."""
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        if data[start + 3] & 0x1F in _H264_KEYFRAME_NAL_TYPES:
            return True
        start = data.find(b"\x00\x00\x01", start + 3)
    return False


def is_keyframe(codec_name: str, data: bytes) -> bool:
    """Whether an encoded frame can be decoded on its own (every audio frame can)."""
    name = codec_name.lower()
    if name == "vp8":
        return vp8_is_keyframe(data)
    if name == "h264":
        return h264_is_keyframe(data)
    return True


class PassthroughDecoder:
    """Stands in for aiortc's decoder: returns the encoded frame, timed in the codec's clock.

    pts is the receiver's RTP timestamp (already unwrapped by aiortc and starting at 0),
    time_base is 1/clock rate, so RTCRtpSender's encoder.pack() turns it back into RTP time.
    """

    def __init__(self, codec_name: str, clock_rate: int) -> None:
        self.codec_name = codec_name
        self.time_base = fractions.Fraction(1, clock_rate)

    def decode(self, encoded_frame: EncodedFrame) -> list[EncodedPacket]:
        """Wrap one encoded frame (what aiortc's decoder thread calls for every frame)."""
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = self.time_base
        packet.is_keyframe = is_keyframe(self.codec_name, encoded_frame.data)
        return [packet]
