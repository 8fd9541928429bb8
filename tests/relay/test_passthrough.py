"""Keyframe detection and the packets PassthroughDecoder makes."""

import fractions

from aiortc.jitterbuffer import JitterFrame

from relay.passthrough import PassthroughDecoder, h264_is_keyframe, is_keyframe, vp8_is_keyframe


def test_vp8_frame_tag() -> None:
    assert vp8_is_keyframe(b"\x10\x02\x00\x9d\x01\x2a")  # P bit 0: key frame
    assert not vp8_is_keyframe(b"\x11\x02\x00")
    assert not vp8_is_keyframe(b"")


def test_h264_idr_or_sps() -> None:
    sps, pps, idr, slice_ = b"\x67\x42", b"\x68\xce", b"\x65\x88", b"\x41\x9a"
    start = b"\x00\x00\x00\x01"
    assert h264_is_keyframe(start + sps + start + pps + start + idr)
    assert h264_is_keyframe(start + idr)
    assert not h264_is_keyframe(start + slice_)
    assert not h264_is_keyframe(b"")


def test_audio_is_always_a_keyframe() -> None:
    assert is_keyframe("opus", b"\x11")
    assert is_keyframe("PCMU", b"")


def test_decode_wraps_the_encoded_frame() -> None:
    (packet,) = PassthroughDecoder("VP8", 90000).decode(JitterFrame(b"\x10\x02\x00", 3000))
    assert bytes(packet) == b"\x10\x02\x00"
    assert packet.pts == 3000
    assert packet.time_base == fractions.Fraction(1, 90000)
    assert packet.is_keyframe
    (packet,) = PassthroughDecoder("opus", 48000).decode(JitterFrame(b"\xfc", 960))
    assert packet.time_base == fractions.Fraction(1, 48000) and packet.is_keyframe
