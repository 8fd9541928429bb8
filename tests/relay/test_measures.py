"""Device-test measures on synthetic frames whose answers are known."""

import array
import fractions
import math
from collections.abc import Callable

import av
import pytest

from relay.measures import (
    CLIP_LEVEL,
    FLOOR_DBFS,
    AudioMeter,
    VideoMeter,
    audio_levels,
    frame_brightness,
    frames_equal,
    is_black,
    pcm_samples,
)
from tests.relay.clients import shown

RATE = 48000


def luma_frame(
    value: int | Callable[[int, int], int], width: int = 320, height: int = 240, pts: int = 0
) -> av.VideoFrame:
    """A yuv420p frame whose Y at (x, y) is value (or value(x, y)); grey chroma."""
    frame = av.VideoFrame(width, height, "yuv420p")
    y_plane = frame.planes[0]
    if callable(value):
        padding = bytes(y_plane.line_size - width)
        rows = (bytes(value(x, y) for x in range(width)) + padding for y in range(height))
        y_plane.update(b"".join(rows))
    else:
        y_plane.update(bytes([value]) * y_plane.buffer_size)
    for plane in frame.planes[1:]:
        plane.update(bytes([128]) * plane.buffer_size)
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, 90000)
    return frame


def audio_frame(
    samples: list[int], layout: str = "mono", fmt: str = "s16", pts: int = 0
) -> av.AudioFrame:
    """An audio frame holding these 16-bit samples (interleaved when packed and stereo)."""
    channels = 2 if layout == "stereo" else 1
    frame = av.AudioFrame(format=fmt, layout=layout, samples=len(samples) // channels)
    data = array.array("h", samples).tobytes()
    if frame.format.is_planar:
        size = len(data) // channels
        for i, plane in enumerate(frame.planes):
            plane.update(data[i * size : (i + 1) * size])
    else:
        frame.planes[0].update(data)
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, RATE)
    return frame


def sine(dbfs: float, count: int = 4800, frequency: float = 1000.0) -> list[int]:
    """count samples of a sine at dbfs (peak), clipped to the 16-bit range like an ADC would."""
    amplitude = 32767 * 10 ** (dbfs / 20)
    return [
        max(-32768, min(32767, round(amplitude * math.sin(2 * math.pi * frequency * i / RATE))))
        for i in range(count)
    ]


def test_brightness_of_uniform_and_split_frames() -> None:
    assert frame_brightness(luma_frame(77)) == pytest.approx(shown(77), abs=3)
    split = luma_frame(lambda x, y: 0 if y < 120 else 200)
    assert frame_brightness(split) == pytest.approx(shown(200) / 2, abs=3)
    assert frame_brightness(luma_frame(200, 1280, 720)) == pytest.approx(shown(200), abs=3)


def test_brightness_is_what_a_person_sees() -> None:
    """Y, U and V all near 0 (what Chromium's fake camera sends) shows medium green."""
    frame = luma_frame(0)
    for plane in frame.planes[1:]:
        plane.update(bytes(plane.buffer_size))
    assert 60 < frame_brightness(frame) < 100
    assert not is_black(frame)


def test_black_frames() -> None:
    assert is_black(luma_frame(0))
    assert is_black(luma_frame(16))  # limited-range video black
    assert not is_black(luma_frame(60))
    # as dark on average, but with detail: a dark scene, not a covered camera
    assert not is_black(luma_frame(lambda x, y: 40 if (x // 40 + y // 40) % 2 else 16))


def test_frames_equal() -> None:
    assert frames_equal(luma_frame(90), luma_frame(90))
    assert not frames_equal(luma_frame(90), luma_frame(91))  # mean difference 1.0
    speck = luma_frame(lambda x, y: 255 if (x, y) == (0, 0) else 90)
    assert frames_equal(luma_frame(90), speck)  # one pixel changed: still the same picture
    assert not frames_equal(luma_frame(90, 320, 240), luma_frame(90, 640, 480))


def test_a_non_yuv_frame_is_measured_too() -> None:
    frame = luma_frame(120).reformat(format="rgb24")
    assert frame_brightness(frame) == pytest.approx(shown(120), abs=3)


def test_video_meter_adds_up_frames() -> None:
    meter = VideoMeter()
    assert meter.measure() is None
    for i in range(10):
        meter.add(luma_frame(200, pts=3000 * i))  # 30 fps in the 90 kHz clock
    for i in range(10, 15):
        meter.add(luma_frame(0, pts=3000 * i))
    measure = meter.measure()
    assert measure is not None
    assert (measure.width, measure.height, measure.frames) == (320, 240, 15)
    assert measure.fps == pytest.approx(30)
    assert measure.frozen_frames == 13  # every frame but the first of each picture
    assert measure.black_frames == 5
    assert measure.brightness == pytest.approx(shown(200) * 10 / 15, abs=2)


def test_sine_levels() -> None:
    rms, peak, clipped = audio_levels(audio_frame(sine(-6.0)))
    assert rms == pytest.approx(-9.0, abs=0.5)  # a sine's RMS is 3 dB under its peak
    assert peak == pytest.approx(-6.0, abs=0.5)
    assert clipped == 0.0


def test_stereo_and_planar_frames_count_every_channel() -> None:
    mono = sine(-20.0, 960)
    interleaved = [s for sample in mono for s in (sample, sample)]
    packed = audio_frame(interleaved, layout="stereo")
    planar = audio_frame(mono + mono, layout="stereo", fmt="s16p")
    assert len(pcm_samples(packed)) == len(pcm_samples(planar)) == 1920
    assert audio_levels(packed) == pytest.approx(audio_levels(audio_frame(mono)))
    assert audio_levels(planar) == pytest.approx(audio_levels(audio_frame(mono)))


def test_digital_silence() -> None:
    assert audio_levels(audio_frame([0] * 960)) == (FLOOR_DBFS, FLOOR_DBFS, 0.0)
    meter = AudioMeter()
    meter.add(audio_frame([0] * 960))
    measure = meter.measure()
    assert measure is not None and measure.silent and measure.samples == 960


def test_clipped_wave() -> None:
    _, peak, clipped = audio_levels(audio_frame(sine(+6.0)))  # twice full scale, clipped
    assert clipped > 0.3
    assert peak == pytest.approx(0.0, abs=0.01)
    assert audio_levels(audio_frame([CLIP_LEVEL - 1] * 10))[2] == 0.0
    assert audio_levels(audio_frame([-CLIP_LEVEL] * 10))[2] == 1.0


def test_unsupported_sample_format() -> None:
    frame = av.AudioFrame(format="fltp", layout="mono", samples=10)
    with pytest.raises(ValueError, match="fltp"):
        audio_levels(frame)


def test_audio_meter_whole_test_and_recent_level() -> None:
    meter = AudioMeter()
    assert meter.measure() is None
    pts = 0
    for _ in range(25):  # 0.5 s of a -6 dBFS sine, then 0.6 s of silence
        meter.add(audio_frame(sine(-6.0, 960), pts=pts))
        pts += 960
    for _ in range(30):
        meter.add(audio_frame([0] * 960, pts=pts))
        pts += 960
    measure = meter.measure()
    assert measure is not None
    assert not measure.silent
    assert measure.peak_dbfs == pytest.approx(-6.0, abs=0.5)
    assert measure.recent_rms_dbfs == FLOOR_DBFS  # the latest half second was silent
    assert measure.samples == 55 * 960
