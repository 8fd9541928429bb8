"""Synthetic media: a pre-encoded clip that carries its own timestamps, and tracks that replay it.

The clip is VP8 640x480 at 30 fps (about 1 Mbit/s, one keyframe at its start) made from FFmpeg's
moving "testsrc2" picture, and Opus in 20 ms packets. Load generators replay it without encoding
(DESIGN.md: a VP8 encode is ~13% of a core per stream), so every server under test gets the very
same bytes at the very same rate.

Each video frame carries a code in its pixels: a row of 16 big black or white blocks across the
top (12 bits of frame number, 4 check bits) that survive VP8 at any sensible bitrate. Each audio
packet carries a code in its sound: two tones, one of 8 low and one of 8 high frequencies
(64 codes, a 1.28 s cycle). A receiver that decodes a frame reads its code, and the sender
remembers when it last sent each code: the difference is the one-way delay.
"""

from __future__ import annotations

import array
import asyncio
import base64
import json
import math
import operator
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av.video.frame import PictureType

from relay.passthrough import EncodedPacket, vp8_is_keyframe

WIDTH, HEIGHT, FPS = 640, 480, 30
VIDEO_BITRATE = 1_000_000
AUDIO_BITRATE = 48_000
VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms
CLIP_FORMAT = 1  # bump when the clip's content or coding changes (cached clips are remade)

# Video code: BLOCKS blocks across the top row, INDEX_BITS of frame number then CHECK_BITS.
BLOCKS = 16
INDEX_BITS = 12
CHECK_BITS = BLOCKS - INDEX_BITS
BLACK, WHITE = 16, 235

# Audio code: one of LOW_TONES plus one of HIGH_TONES (Hz), read at AUDIO_RATE / DECIMATE.
LOW_TONES = tuple(700 + 200 * i for i in range(8))
HIGH_TONES = tuple(2700 + 200 * i for i in range(8))
AUDIO_CODES = len(LOW_TONES) * len(HIGH_TONES)
DECIMATE = 4
TONE_LEVEL = 0.25 * 32767


@dataclass(frozen=True)
class Clip:
    """Encoded frames and the code a receiver reads back from each (None: unreadable)."""

    video: tuple[bytes, ...]
    video_codes: tuple[int | None, ...]
    audio: tuple[bytes, ...]
    audio_codes: tuple[int | None, ...]

    @property
    def video_bitrate(self) -> float:
        """Mean video bitrate of the clip, bits per second."""
        return 8 * sum(map(len, self.video)) * FPS / len(self.video)


def _check(index: int) -> int:
    return (index ^ (index >> 4) ^ (index >> 8) ^ 0b1010) & ((1 << CHECK_BITS) - 1)


def video_code_bits(index: int) -> list[bool]:
    """The blocks (True: white) that carry index, most significant bit first."""
    word = (index << CHECK_BITS) | _check(index)
    return [bool(word >> (BLOCKS - 1 - i) & 1) for i in range(BLOCKS)]


def draw_video_code(frame: av.VideoFrame, index: int) -> None:
    """Paint index's blocks into the top row of a yuv420p frame (chroma made neutral there)."""
    size = frame.width // BLOCKS
    luma = frame.planes[0]
    rows = bytearray(bytes(luma))
    stride = luma.line_size
    line = b"".join(bytes([WHITE if bit else BLACK]) * size for bit in video_code_bits(index))
    for y in range(size):
        rows[y * stride : y * stride + len(line)] = line
    luma.update(bytes(rows))
    for plane in frame.planes[1:]:
        data = bytearray(bytes(plane))
        for y in range(size // 2):
            start = y * plane.line_size
            data[start : start + frame.width // 2] = bytes([128]) * (frame.width // 2)
        plane.update(bytes(data))


def read_video_code(frame: av.VideoFrame) -> int | None:
    """The code in a decoded frame's blocks, None if they do not check out."""
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        frame = frame.reformat(format="yuv420p")
    size = frame.width // BLOCKS
    plane = frame.planes[0]
    pixels = memoryview(plane).cast("B")
    stride = plane.line_size
    word = 0
    for i in range(BLOCKS):
        x0, y0 = i * size + size // 2, size // 2
        level = sum(
            pixels[(y0 + dy) * stride + x0 + dx]
            for dx in (-size // 4, size // 4)
            for dy in (-size // 4, size // 4)
        )
        word = (word << 1) | (level > 4 * 126)
    index = word >> CHECK_BITS
    return index if word & ((1 << CHECK_BITS) - 1) == _check(index) else None


def audio_code_tones(code: int) -> tuple[int, int]:
    """The (low, high) frequencies of an audio code."""
    return LOW_TONES[code % len(LOW_TONES)], HIGH_TONES[code // len(LOW_TONES)]


class _ToneTables:
    """Cosine and sine tables for reading tones out of frames of one length."""

    def __init__(self, length: int) -> None:
        rate = AUDIO_RATE / DECIMATE
        self.tables = {
            f: (
                [math.cos(2 * math.pi * f * n / rate) for n in range(length)],
                [math.sin(2 * math.pi * f * n / rate) for n in range(length)],
            )
            for f in (*LOW_TONES, *HIGH_TONES)
        }

    def power(self, samples: Sequence[int], frequency: int) -> float:
        cos, sin = self.tables[frequency]
        re = sum(map(operator.mul, samples, cos))
        im = sum(map(operator.mul, samples, sin))
        return float(re * re + im * im)


_tone_tables: dict[int, _ToneTables] = {}


def read_audio_code(frame: av.AudioFrame) -> int | None:
    """The code of the two strongest tones in a decoded frame, None for silence."""
    if frame.format.name != "s16":
        return None
    channels = len(frame.layout.channels)
    samples = array.array("h", bytes(frame.planes[0]))[:: channels * DECIMATE]
    if not samples or max(map(abs, samples)) < 1000:
        return None
    tables = _tone_tables.get(len(samples))
    if tables is None:
        tables = _tone_tables[len(samples)] = _ToneTables(len(samples))
    low = max(range(len(LOW_TONES)), key=lambda i: tables.power(samples, LOW_TONES[i]))
    high = max(range(len(HIGH_TONES)), key=lambda i: tables.power(samples, HIGH_TONES[i]))
    return low + len(LOW_TONES) * high


def _encode_video(frames: int) -> list[bytes]:
    source = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", format="lavfi")
    encoder = av.CodecContext.create("libvpx", "w")
    assert isinstance(encoder, av.VideoCodecContext)
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.bit_rate = VIDEO_BITRATE
    encoder.time_base = Fraction(1, FPS)
    encoder.framerate = Fraction(FPS)
    encoder.gop_size = frames  # one keyframe, at the start (a browser sends more on request)
    encoder.qmin, encoder.qmax = 4, 56
    encoder.thread_count = 2
    # Real-time constant-bitrate settings, like a browser's (and aiortc's own VP8 encoder).
    encoder.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "auto-alt-ref": "0",
        "bufsize": str(VIDEO_BITRATE),
        "minrate": str(VIDEO_BITRATE),
        "maxrate": str(VIDEO_BITRATE),
        "undershoot-pct": "95",
        "overshoot-pct": "10",
        "static-thresh": "1",
    }
    encoded: list[bytes] = []
    try:
        for index, frame in enumerate(source.decode(video=0)):
            if index == frames:
                break
            picture = frame.reformat(format="yuv420p")
            draw_video_code(picture, index)
            picture.pts, picture.time_base = index, Fraction(1, FPS)
            picture.pict_type = PictureType.NONE  # lavfi marks every frame I: not a keyframe
            encoded += [bytes(p) for p in encoder.encode(picture)]
        encoded += [bytes(p) for p in encoder.encode(None)]
    finally:
        source.close()
    if len(encoded) != frames or not vp8_is_keyframe(encoded[0]):
        raise RuntimeError(f"VP8 clip: {len(encoded)} frames of {frames}, or no keyframe first")
    return encoded


def _encode_audio(frames: int) -> list[bytes]:
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, av.AudioCodecContext)
    encoder.bit_rate = AUDIO_BITRATE
    encoder.format = "s16"
    encoder.layout = "stereo"
    encoder.sample_rate = AUDIO_RATE
    encoder.time_base = Fraction(1, AUDIO_RATE)
    encoder.options = {"application": "voip"}
    encoded: list[bytes] = []
    for index in range(frames):
        low, high = audio_code_tones(index % AUDIO_CODES)
        start = index * AUDIO_SAMPLES
        samples = array.array("h")
        for n in range(start, start + AUDIO_SAMPLES):
            t = 2 * math.pi * n / AUDIO_RATE
            value = round(TONE_LEVEL * (math.sin(low * t) + math.sin(high * t)))
            samples.extend((value, value))
        frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
        frame.sample_rate = AUDIO_RATE
        frame.pts, frame.time_base = start, Fraction(1, AUDIO_RATE)
        frame.planes[0].update(samples.tobytes())
        encoded += [bytes(p) for p in encoder.encode(frame)]
    encoded += [bytes(p) for p in encoder.encode(None)]
    return encoded[:frames]


def _read_back_video(encoded: Sequence[bytes]) -> list[int | None]:
    decoder = av.CodecContext.create("libvpx", "r")
    codes: list[int | None] = []
    for data in encoded:
        frames = decoder.decode(av.Packet(data))
        codes.append(read_video_code(frames[0]) if frames else None)
    return codes


def _read_back_audio(encoded: Sequence[bytes]) -> list[int | None]:
    decoder = av.CodecContext.create("libopus", "r")
    assert isinstance(decoder, av.AudioCodecContext)
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", AUDIO_RATE
    codes: list[int | None] = []
    for data in encoded:
        frames = decoder.decode(av.Packet(data))
        codes.append(read_audio_code(frames[0]) if frames else None)
    return codes


def make_clip(seconds: float) -> Clip:
    """Encode a clip of this length and read every frame's code back as a receiver would."""
    video = _encode_video(round(seconds * FPS))
    audio = _encode_audio(round(seconds * AUDIO_RATE / AUDIO_SAMPLES))
    return Clip(
        video=tuple(video),
        video_codes=tuple(_read_back_video(video)),
        audio=tuple(audio),
        audio_codes=tuple(_read_back_audio(audio)),
    )


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "atende-bench"


def load_clip(seconds: float, directory: Path | None = None) -> Clip:
    """The clip of this length, from the cache or made (and cached) now."""
    path = (directory or cache_dir()) / f"clip-v{CLIP_FORMAT}-{seconds:g}s.json"
    try:
        data = json.loads(path.read_text())
        return Clip(
            video=tuple(base64.b64decode(v) for v in data["video"]),
            video_codes=tuple(data["video_codes"]),
            audio=tuple(base64.b64decode(a) for a in data["audio"]),
            audio_codes=tuple(data["audio_codes"]),
        )
    except (OSError, ValueError, KeyError):
        pass
    clip = make_clip(seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(
        json.dumps(
            {
                "video": [base64.b64encode(v).decode() for v in clip.video],
                "video_codes": list(clip.video_codes),
                "audio": [base64.b64encode(a).decode() for a in clip.audio],
                "audio_codes": list(clip.audio_codes),
            }
        )
    )
    temporary.replace(path)
    return clip


class ReplayTrack(MediaStreamTrack):
    """Sends a clip's encoded frames as av.Packet (aiortc packs them without encoding), paced
    in real time. A video track starts over at the clip's keyframe when asked for a keyframe.

    sent: frames handed to the sender so far. sent_at[code]: time.monotonic() when the latest
    frame carrying code was handed to the sender.
    """

    def __init__(
        self,
        kind: str,
        frames: Sequence[bytes],
        codes: Sequence[int | None],
        period: Fraction,
        clock_rate: int,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.sent = 0
        self.sent_at: dict[int, float] = {}
        self.keyframe_requests = 0
        self._frames = frames
        self._codes = codes
        self._period = float(period)
        self._ticks = int(period * clock_rate)
        self._time_base = Fraction(1, clock_rate)
        self._position = 0
        self._start: float | None = None
        self._restart = False
        self._last_restart = 0.0

    @classmethod
    def video(cls, clip: Clip) -> ReplayTrack:
        return cls("video", clip.video, clip.video_codes, Fraction(1, FPS), VIDEO_CLOCK)

    @classmethod
    def audio(cls, clip: Clip) -> ReplayTrack:
        period = Fraction(AUDIO_SAMPLES, AUDIO_RATE)
        return cls("audio", clip.audio, clip.audio_codes, period, AUDIO_RATE)

    @property
    def code_cycle(self) -> float:
        """Seconds after which a code repeats."""
        cycle = len(self._frames) if self.kind == "video" else AUDIO_CODES
        return cycle * self._period

    def request_keyframe(self) -> None:
        """The receiver lost the picture: the next frame is the clip's keyframe (at most one
        restart every 250 ms, as a browser would rate-limit its own)."""
        self.keyframe_requests += 1
        if self.kind == "video" and time.monotonic() - self._last_restart > 0.25:
            self._restart = True

    async def recv(self) -> EncodedPacket:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self.sent * self._period
        if due > now:
            await asyncio.sleep(due - now)
        elif now - due > 0.5:  # far behind (an overloaded loop): skip, don't burst
            self._start = now - self.sent * self._period
        if self._restart:
            self._restart = False
            self._position = 0
            self._last_restart = time.monotonic()
        position = self._position
        self._position = (position + 1) % len(self._frames)
        packet = av.Packet(self._frames[position])
        packet.pts = self.sent * self._ticks
        packet.time_base = self._time_base
        code = self._codes[position]
        if code is not None:
            self.sent_at[code] = time.monotonic()
        self.sent += 1
        return packet
