"""Test browsers: aiortc peers on 127.0.0.1 that offer audio and video to the relay."""

import asyncio
import fractions
from collections.abc import Callable

import av
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError

from relay.aiortc_hooks import gather_on, install
from relay.codecs import preferred_codecs
from relay.relay import Relay

LOOPBACK = ("127.0.0.1",)


class SolidVideoTrack(VideoStreamTrack):
    """30 fps frames of one brightness, so a receiver can tell whose video it gets."""

    def __init__(self, luma: int, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.luma = luma
        self.width = width
        self.height = height

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for plane, value in zip(frame.planes, (self.luma, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = fractions.Fraction(time_base.numerator, time_base.denominator)
        return frame


def mean_luma(frame: av.VideoFrame) -> float:
    """Average brightness of a decoded frame (0-255)."""
    plane = frame.planes[0]
    data = bytes(plane)
    rows = [
        data[y * plane.line_size : y * plane.line_size + plane.width] for y in range(plane.height)
    ]
    return sum(sum(row) for row in rows) / (plane.width * plane.height)


class Client:
    """A browser stand-in: one RTCPeerConnection, sending and recording what it receives."""

    def __init__(
        self,
        video: MediaStreamTrack | None = None,
        *,
        video_codecs: tuple[str, ...] = (),
        data_only: bool = False,
    ) -> None:
        install()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # [] = no public STUN
        self.video_frames: list[tuple[int, int, float]] = []  # (width, height, mean luma)
        self.audio_frames = 0
        self._readers: list[asyncio.Task[None]] = []
        if data_only:
            self.pc.createDataChannel("chat")
        else:
            self.pc.addTransceiver(AudioStreamTrack(), direction="sendrecv")
            video_transceiver = self.pc.addTransceiver(
                video or SolidVideoTrack(128), direction="sendrecv"
            )
            if video_codecs:  # like a browser that only offers these
                video_transceiver.setCodecPreferences(preferred_codecs("video", video_codecs))
        self.pc.on("track", self._on_track)

    async def offer(self) -> str:
        """Create the offer with every candidate gathered on loopback."""
        with gather_on(LOOPBACK):
            await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    def sender(self, kind: str) -> RTCRtpSender:
        return next(t.sender for t in self.pc.getTransceivers() if t.kind == kind)

    def receiver(self, kind: str) -> RTCRtpReceiver:
        return next(t.receiver for t in self.pc.getTransceivers() if t.kind == kind)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    self.video_frames.append((frame.width, frame.height, mean_luma(frame)))
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            pass

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def join(relay: Relay, peer_id: str, client: Client) -> None:
    """Offer from client, answer from the relay as peer_id."""
    await client.accept(await relay.answer(peer_id, await client.offer()))


async def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait until condition() is true; fail the test after that many seconds."""
    try:
        async with asyncio.timeout(seconds):
            while not condition():  # noqa: ASYNC110 (aiortc state changes raise no event)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"condition not met within {seconds} s") from None
