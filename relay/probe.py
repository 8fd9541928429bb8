"""Device-test probe: the relay decodes a browser's test stream, measures it, sends the video back.

The one place the relay decodes. The video comes back to the browser as the relay received it
(decoded frames, re-encoded by aiortc's sender); the audio does not come back (it would echo).
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import av
from aiortc import MediaStreamTrack, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError

from relay.config import RelayConfig
from relay.counters import RelayCounters
from relay.measures import (
    AudioMeasure,
    AudioMeter,
    VideoMeasure,
    VideoMeter,
    audio_levels,
    frame_brightness,
    frames_equal,
    is_black,
)
from relay.peer import Peer
from relay.sdp import Offer
from relay.stats import DirectionStats, connection_path, loss_percent, read_directions

# The measures and the pure functions behind them are defined in relay/measures.py; relay.probe
# is the device test's interface, so it offers them too.
__all__ = [
    "AudioMeasure",
    "NetworkMeasure",
    "Probe",
    "ProbeReport",
    "VideoMeasure",
    "audio_levels",
    "frame_brightness",
    "frames_equal",
    "is_black",
]

NETWORK_INTERVAL = 0.5  # seconds between two network samples of a running probe
LOOPBACK_QUEUE = 2  # decoded frames waiting for the loopback sender; older ones are dropped
ENDED_STATES = frozenset({"failed", "closed"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkMeasure:
    """The connection as the relay sees it; None where nothing is known yet.

    rtt_ms: round-trip time from the browser's receiver reports on the looped-back video (so
        None for an audio-only test). loss_percent, jitter_ms: of what the browser sends (jitter
        of its worst stream). path: "direct" or "relay" (through a TURN server).
    """

    rtt_ms: float | None
    loss_percent: float | None
    jitter_ms: float | None
    path: str | None


@dataclass(frozen=True)
class ProbeReport:
    """A device test so far. video/audio: None when the offer had no such track or nothing of it
    arrived. seconds: since the offer arrived (until the close, once closed)."""

    video: VideoMeasure | None
    audio: AudioMeasure | None
    network: NetworkMeasure
    seconds: float


UNKNOWN_NETWORK = NetworkMeasure(rtt_ms=None, loss_percent=None, jitter_ms=None, path=None)


def network_measure(directions: list[DirectionStats], path: str | None) -> NetworkMeasure:
    """Sum up a peer's directions: RTT of what it receives, loss and jitter of what it sends."""
    incoming = [d for d in directions if d.direction == "in"]
    rtts = [d.rtt_ms for d in directions if d.rtt_ms is not None]
    jitters = [d.jitter_ms for d in incoming if d.jitter_ms is not None]
    lost = sum(d.packets_lost for d in incoming)
    return NetworkMeasure(
        rtt_ms=sum(rtts) / len(rtts) if rtts else None,
        loss_percent=loss_percent(sum(d.packets for d in incoming), lost),
        jitter_ms=max(jitters) if jitters else None,
        path=path,
    )


class LoopbackTrack(MediaStreamTrack):
    """The video track the probe sends back: the latest decoded frames, in a short queue."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[av.VideoFrame | None] = asyncio.Queue(LOOPBACK_QUEUE)

    def push(self, frame: av.VideoFrame) -> None:
        """Queue a frame for the sender, dropping the oldest if the sender is behind."""
        if self.readyState != "live":
            return
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(frame)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        return frame

    def stop(self) -> None:
        """End the track and wake a waiting recv()."""
        super().stop()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)


class Probe(Peer):
    """A device-test connection. It measures until closed, or until its connection fails or
    config.max_probe_seconds pass, whichever comes first; its report outlives the connection."""

    forwarded = False

    def __init__(self, probe_id: str, config: RelayConfig, counters: RelayCounters) -> None:
        super().__init__(probe_id, config, counters)
        counters.probes_running += 1
        self._video: VideoMeter | None = None
        self._audio: AudioMeter | None = None
        self._loopback = LoopbackTrack()
        self._readers: list[asyncio.Task[None]] = []
        self._network = UNKNOWN_NETWORK
        self._watcher: asyncio.Task[None] | None = None
        self._ended: float | None = None

    async def answer(self, offer: Offer) -> str:
        answer = await super().answer(offer)
        self._watcher = asyncio.ensure_future(self._watch())
        return answer

    def report(self) -> ProbeReport:
        """What was measured so far."""
        return ProbeReport(
            video=None if self._video is None else self._video.measure(),
            audio=None if self._audio is None else self._audio.measure(),
            network=self._network,
            seconds=(time.monotonic() if self._ended is None else self._ended) - self.started,
        )

    def _sender_track(self, kind: str) -> MediaStreamTrack | None:
        return self._loopback if kind == "video" else None

    def _received(self, track: MediaStreamTrack, receiver: RTCRtpReceiver) -> None:
        if track.kind == "video":
            self._video = VideoMeter()
        else:
            self._audio = AudioMeter()
        self._readers.append(asyncio.ensure_future(self._read(track)))

    def _count_decoder(self, passthrough: bool) -> None:
        self._counters.count_probe_decoder(passthrough)

    async def _read(self, track: MediaStreamTrack) -> None:
        """Measure every decoded frame of track; loop video back."""
        warned = False
        try:
            while True:
                frame = await track.recv()
                try:
                    if isinstance(frame, av.VideoFrame) and self._video is not None:
                        self._video.add(frame)
                        self._loopback.push(frame)
                    elif isinstance(frame, av.AudioFrame) and self._audio is not None:
                        self._audio.add(frame)
                except ValueError as exc:  # a format the meters cannot read: keep draining
                    if not warned:
                        logger.warning("probe %s: %s", self.peer_id, exc)
                        warned = True
        except MediaStreamError:
            pass

    async def _watch(self) -> None:
        """Sample the network until the connection ends or the time is up, then close."""
        while True:
            await self._sample_network()
            if self.connection_state in ENDED_STATES:
                break
            if time.monotonic() - self.started >= self._config.max_probe_seconds:
                logger.info("probe %s: time is up", self.peer_id)
                break
            await asyncio.sleep(NETWORK_INTERVAL)
        await self.close()

    async def _sample_network(self) -> None:
        try:
            directions = [reading.stats for reading in await read_directions(self)]
        except Exception:
            logger.warning("probe %s: network stats unavailable", self.peer_id, exc_info=True)
            return
        self._network = network_measure(directions, connection_path(self))

    async def _close_media(self) -> None:
        self._ended = time.monotonic()
        self._counters.probes_running -= 1
        await self._sample_network()  # the last one, while the connection is still open
        if self._watcher is not None:  # it may be waiting for this close: that's fine
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self._loopback.stop()
