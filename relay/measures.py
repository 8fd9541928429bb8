"""Device-test measures of decoded frames: pure per-frame functions and the meters that add up.

Video is measured on the picture's luma as a person sees it: the frame scaled down to a grid of
about LUMA_GRID points across its short side, converted to RGB, and weighted 0.299 R + 0.587 G +
0.114 B (0 black, 255 white). Going through RGB matters: the Y plane alone misjudges unusual
chroma (Chromium's fake camera sends Y near 0 with U and V near 0, a picture that shows medium
green). The cost stays near a millisecond a frame whatever the resolution. Audio is
measured on signed 16-bit samples, all channels together; 0 dBFS is 32768.
"""

import math
import operator
import time
from array import array
from collections import deque
from dataclasses import dataclass

import av

LUMA_GRID = 48
# Black: darker than this mean luma (a covered camera adds a little noise to 0) and flatter
# than this standard deviation (a dark scene still has detail).
BLACK_MAX_LUMA = 20.0
BLACK_MAX_STDDEV = 4.0
# Frozen: a mean absolute luma difference below this from the previous frame (a live camera's
# sensor noise alone is above it).
FROZEN_MAX_DIFF = 0.5

FULL_SCALE = 32768
FLOOR_DBFS = -120.0  # reported for digital silence, where the logarithm has no value
SILENCE_DBFS = -60.0  # an RMS level below this is silence
CLIP_LEVEL = math.ceil(0.999 * 32767)  # a sample this far from zero, either sign, is clipped
RECENT_SECONDS = 0.5  # AudioMeasure.recent_rms_dbfs: the level over this much of the latest audio

_S16_FORMATS = frozenset({"s16", "s16p"})


@dataclass(frozen=True)
class VideoMeasure:
    """The video received so far.

    width, height: of the latest frame. fps: frames per second of media time over the test.
    frozen_frames: frames (nearly) identical to the one before. brightness: mean Y (0-255) over
    all frames. black_frames: frames that are black (see is_black).
    """

    width: int
    height: int
    fps: float
    frames: int
    frozen_frames: int
    brightness: float
    black_frames: int


@dataclass(frozen=True)
class AudioMeasure:
    """The audio received so far.

    rms_dbfs, peak_dbfs: over the whole test (FLOOR_DBFS for digital silence). silent: RMS below
    SILENCE_DBFS. clipped_fraction: of samples at full scale. samples: counted over all channels.
    recent_rms_dbfs: RMS over the latest RECENT_SECONDS of audio, for a live level meter.
    """

    rms_dbfs: float
    peak_dbfs: float
    silent: bool
    clipped_fraction: float
    samples: int
    recent_rms_dbfs: float = FLOOR_DBFS


def luma_samples(frame: av.VideoFrame) -> bytes:
    """The picture's luma (0-255) on a grid of about LUMA_GRID points across its short side."""
    step = max(1, min(frame.width, frame.height) // LUMA_GRID)
    width, height = max(1, frame.width // step), max(1, frame.height // step)
    rgb = frame.reformat(width=width, height=height, format="rgb24").planes[0]
    data, stride = bytes(rgb), rgb.line_size
    return bytes(
        (299 * data[x] + 587 * data[x + 1] + 114 * data[x + 2] + 500) // 1000
        for y in range(height)
        for x in range(y * stride, y * stride + 3 * width, 3)
    )


def frame_brightness(frame: av.VideoFrame) -> float:
    """Mean Y of the frame, 0 (black) to 255 (white)."""
    return _mean(luma_samples(frame))


def is_black(frame: av.VideoFrame) -> bool:
    """Whether the frame is black: dark (mean Y < BLACK_MAX_LUMA) and flat."""
    samples = luma_samples(frame)
    return _is_black(samples, _mean(samples))


def frames_equal(a: av.VideoFrame, b: av.VideoFrame) -> bool:
    """Whether two frames show the same picture (same size, mean |ΔY| < FROZEN_MAX_DIFF)."""
    return (a.width, a.height) == (b.width, b.height) and _same_picture(
        luma_samples(a), luma_samples(b)
    )


def pcm_samples(frame: av.AudioFrame) -> "array[int]":
    """The frame's samples as signed 16-bit integers, every channel (formats s16 and s16p)."""
    if frame.format.name not in _S16_FORMATS:
        raise ValueError(f"cannot measure {frame.format.name} audio, only s16 and s16p")
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        planes, per_plane = frame.planes, frame.samples
    else:
        planes, per_plane = frame.planes[:1], frame.samples * channels
    samples: array[int] = array("h")
    for plane in planes:
        samples.frombytes(bytes(plane)[: per_plane * 2])
    return samples


def audio_levels(frame: av.AudioFrame) -> tuple[float, float, float]:
    """(RMS dBFS, peak dBFS, clipped fraction) of one frame."""
    levels = _Levels.of(pcm_samples(frame))
    return levels.rms_dbfs, levels.peak_dbfs, levels.clipped_fraction


def to_dbfs(amplitude: float) -> float:
    """An amplitude in sample units as dBFS, never below FLOOR_DBFS."""
    if amplitude <= 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20 * math.log10(amplitude / FULL_SCALE))


def frame_seconds(frame: av.VideoFrame | av.AudioFrame) -> float:
    """The frame's media time in seconds, or the arrival time when it has no timestamp."""
    if frame.pts is None or frame.time_base is None:
        return time.monotonic()
    return float(frame.pts * frame.time_base)


class VideoMeter:
    """Adds up the decoded video frames of one test."""

    def __init__(self) -> None:
        self._frames = 0
        self._frozen = 0
        self._black = 0
        self._brightness_total = 0.0
        self._size = (0, 0)
        self._previous: bytes | None = None
        self._first: float | None = None
        self._last = 0.0

    def add(self, frame: av.VideoFrame) -> None:
        samples = luma_samples(frame)
        size = (frame.width, frame.height)
        previous = self._previous
        if previous is not None and size == self._size and _same_picture(previous, samples):
            self._frozen += 1
        brightness = _mean(samples)
        if _is_black(samples, brightness):
            self._black += 1
        self._brightness_total += brightness
        self._frames += 1
        self._size = size
        self._previous = samples
        self._last = frame_seconds(frame)
        if self._first is None:
            self._first = self._last

    def measure(self) -> VideoMeasure | None:
        """The measure so far; None before the first frame."""
        if self._first is None:
            return None
        span = self._last - self._first
        return VideoMeasure(
            width=self._size[0],
            height=self._size[1],
            fps=(self._frames - 1) / span if span > 0 else 0.0,
            frames=self._frames,
            frozen_frames=self._frozen,
            brightness=self._brightness_total / self._frames,
            black_frames=self._black,
        )


class AudioMeter:
    """Adds up the decoded audio frames of one test."""

    def __init__(self) -> None:
        self._total = _Levels()
        self._recent: deque[tuple[float, _Levels]] = deque()

    def add(self, frame: av.AudioFrame) -> None:
        levels = _Levels.of(pcm_samples(frame))
        self._total.add(levels)
        now = frame_seconds(frame)
        self._recent.append((now, levels))
        while now - self._recent[0][0] > RECENT_SECONDS:
            self._recent.popleft()

    def measure(self) -> AudioMeasure | None:
        """The measure so far; None before the first sample."""
        total = self._total
        if total.samples == 0:
            return None
        recent = _Levels()
        for _, levels in self._recent:
            recent.add(levels)
        return AudioMeasure(
            rms_dbfs=total.rms_dbfs,
            peak_dbfs=total.peak_dbfs,
            silent=total.rms_dbfs < SILENCE_DBFS,
            clipped_fraction=total.clipped_fraction,
            samples=total.samples,
            recent_rms_dbfs=recent.rms_dbfs,
        )


@dataclass
class _Levels:
    """Sums over some 16-bit samples, from which their levels follow."""

    samples: int = 0
    sum_squares: int = 0
    peak: int = 0
    clipped: int = 0

    @classmethod
    def of(cls, pcm: "array[int]") -> "_Levels":
        if not pcm:
            return cls()
        return cls(
            samples=len(pcm),
            sum_squares=sum(map(operator.mul, pcm, pcm)),
            peak=max(max(pcm), -min(pcm)),
            clipped=sum(1 for x in pcm if x >= CLIP_LEVEL or x <= -CLIP_LEVEL),
        )

    def add(self, other: "_Levels") -> None:
        self.samples += other.samples
        self.sum_squares += other.sum_squares
        self.peak = max(self.peak, other.peak)
        self.clipped += other.clipped

    @property
    def rms_dbfs(self) -> float:
        return to_dbfs(math.sqrt(self.sum_squares / self.samples) if self.samples else 0.0)

    @property
    def peak_dbfs(self) -> float:
        return to_dbfs(self.peak)

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.samples if self.samples else 0.0


def _mean(samples: bytes) -> float:
    return sum(samples) / len(samples) if samples else 0.0


def _is_black(samples: bytes, mean: float) -> bool:
    if not samples or mean >= BLACK_MAX_LUMA:
        return False
    variance = sum(map(operator.mul, samples, samples)) / len(samples) - mean * mean
    return math.sqrt(max(variance, 0.0)) < BLACK_MAX_STDDEV


def _same_picture(a: bytes, b: bytes) -> bool:
    if a == b:
        return True
    if len(a) != len(b) or not a:
        return False
    difference: int = sum(map(abs, map(operator.sub, a, b)))
    return difference / len(a) < FROZEN_MAX_DIFF
