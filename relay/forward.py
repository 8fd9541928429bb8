"""Encoded passthrough: a Pump reads a received track, a ForwardTrack feeds another peer's sender.

The received track yields av.Packet (see relay/passthrough.py); RTCRtpSender packs a Packet
without encoding it, so media crosses the relay as it was encoded by the sending browser.
A video sink starts (and restarts after a drop) on a keyframe, and asks its source for one.

Only when the sink's codec differs from its source's does the ForwardTrack decode the packets
(relay/transcode.py) and hand frames to the sender, which then encodes them in the sink's codec.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from fractions import Fraction

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from relay.counters import RelayCounters
from relay.keyframes import KeyframeRequester
from relay.passthrough import EncodedPacket
from relay.transcode import Transcoder

QUEUE_SIZE = {"video": 64, "audio": 32}
# When a sink changes source, its timeline continues one frame after the last packet it sent.
FRAME_SECONDS = {"video": Fraction(1, 30), "audio": Fraction(1, 50)}

logger = logging.getLogger(__name__)


class ForwardTrack(MediaStreamTrack):
    """The track of one relay sender: packets pushed by a linked Pump, in a bounded queue.

    force_encoder_keyframe: set by the sink's leg; makes the sender's encoder emit a keyframe
    (used while transcoding, when the browser's keyframe requests are ours to answer).
    """

    def __init__(self, kind: str, counters: RelayCounters) -> None:
        super().__init__()
        self.kind = kind
        self.force_encoder_keyframe: Callable[[], None] | None = None
        self._counters = counters
        self._queue: asyncio.Queue[EncodedPacket | None] = asyncio.Queue(QUEUE_SIZE[kind])
        self._transcoder: Transcoder | None = None
        self._decoded: deque[av.VideoFrame | av.AudioFrame] = deque()
        self._source: Pump | None = None
        self._sending = False  # the sender has asked for its first packet
        self._need_keyframe = kind == "video"
        self._new_timeline = True
        self._offset = 0
        self._last_pts: int | None = None

    @property
    def source(self) -> Pump | None:
        """The pump currently feeding this track."""
        return self._source

    @property
    def transcoding(self) -> bool:
        """Whether this track decodes its source's packets for the sender to encode."""
        return self._transcoder is not None

    def transcode_from(self, transcoder: Transcoder | None) -> None:
        """Decode the source's packets with transcoder (None: forward them encoded)."""
        self._transcoder = transcoder
        self._decoded.clear()

    def browser_requests_keyframe(self) -> None:
        """Our browser sent a PLI/FIR: the encoder answers it when transcoding, else the source."""
        if self._transcoder is not None and self.force_encoder_keyframe is not None:
            self.force_encoder_keyframe()
        else:
            self.request_keyframe()

    def request_keyframe(self) -> None:
        """Ask the current source for a keyframe."""
        if self._source is not None:
            self._source.request_keyframe()

    def push(self, packet: EncodedPacket) -> None:
        """Queue one encoded frame from the source; drop it if it cannot be sent usefully."""
        if self.readyState != "live" or not self._sending:
            return
        if self._need_keyframe:
            if not packet.is_keyframe:
                self.request_keyframe()
                return
            self._need_keyframe = False
        if self._queue.full():
            if self.kind == "video":
                self._need_keyframe = True
                self.request_keyframe()
            return
        packet.pts = self._retime(packet)
        self._queue.put_nowait(packet)

    async def recv(self) -> EncodedPacket | av.VideoFrame | av.AudioFrame:
        """The next packet (or, when transcoding, decoded frame) for the sender; waits while
        nothing is linked or queued."""
        if self.readyState != "live":
            raise MediaStreamError
        self._sending = True
        while not self._decoded:
            packet = await self._queue.get()
            if packet is None:
                raise MediaStreamError
            transcoder = self._transcoder
            if transcoder is None:
                self._counters.packets_forwarded += 1
                return packet
            await self._decode(transcoder, packet)
        return self._decoded.popleft()

    async def _decode(self, transcoder: Transcoder, packet: EncodedPacket) -> None:
        """Decode one packet in a worker thread; after a damaged video frame, wait for a key."""
        failures = transcoder.failures
        frames = await asyncio.get_running_loop().run_in_executor(None, transcoder.decode, packet)
        if transcoder is not self._transcoder:
            return  # the source changed meanwhile: these frames belong to the old one
        if transcoder.failures > failures and self.kind == "video":
            self._need_keyframe = True
            self.request_keyframe()
        self._counters.frames_transcoded += len(frames)
        self._decoded.extend(frames)

    def stop(self) -> None:
        """End the track and wake a waiting recv()."""
        super().stop()
        self._decoded.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def _link(self, source: Pump | None) -> None:
        """Set by Pump.connect/disconnect: a new source starts on a keyframe and a new timeline."""
        self._source = source
        if self.readyState == "live":  # what the old source left queued is not sent (its codec
            while not self._queue.empty():  # or decoder may differ from the new one's)
                self._queue.get_nowait()
        if source is not None:
            self._need_keyframe = self.kind == "video"
            self._new_timeline = True
            self.request_keyframe()

    def _retime(self, packet: EncodedPacket) -> int:
        """The packet's pts on this track's own timeline, continuous across source changes."""
        pts = packet.pts or 0
        if self._new_timeline:
            self._new_timeline = False
            if self._last_pts is None:
                self._offset = 0
            else:
                gap = round(FRAME_SECONDS[self.kind] / (packet.time_base or Fraction(1, 90000)))
                self._offset = self._last_pts + gap - pts
        self._last_pts = pts + self._offset
        return self._last_pts


class Pump:
    """Reads one received track without pause (its queue is unbounded) and feeds the linked sink."""

    def __init__(self, track: MediaStreamTrack, keyframes: KeyframeRequester | None) -> None:
        self.kind = track.kind
        self._track = track
        self._keyframes = keyframes
        self._sink: ForwardTrack | None = None
        self._task = asyncio.ensure_future(self._run())

    @property
    def sink(self) -> ForwardTrack | None:
        """The ForwardTrack this pump feeds, if any."""
        return self._sink

    def connect(self, sink: ForwardTrack) -> None:
        """Feed sink from now on (taking it over from the pump that fed it before, if any)."""
        if self._sink is sink:
            return
        self.disconnect()
        previous = sink.source
        if previous is not None:
            previous._sink = None
        self._sink = sink
        sink._link(self)

    def disconnect(self) -> None:
        """Stop feeding the sink; packets are dropped until the next connect()."""
        if self._sink is not None:
            self._sink._link(None)
            self._sink = None

    def request_keyframe(self) -> None:
        """Ask the browser sending this track for a keyframe (video only)."""
        if self._keyframes is not None:
            self._keyframes.request()

    async def close(self) -> None:
        """Stop reading and feeding."""
        self.disconnect()
        if self._keyframes is not None:
            self._keyframes.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        try:
            while True:
                item = await self._track.recv()
                if self._sink is not None and isinstance(item, av.Packet):
                    self._sink.push(item)
        except MediaStreamError:
            pass
        finally:
            self.disconnect()
