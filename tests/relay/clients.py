"""Test browsers: aiortc peers on 127.0.0.1 that offer audio and video to the relay."""

import array
import asyncio
import fractions
import math
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

from relay.aiortc_hooks import close_ice_sockets, gather_on, install
from relay.codecs import preferred_codecs
from relay.liveness import ice_transports
from relay.measures import frame_brightness
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


class SineAudioTrack(AudioStreamTrack):
    """aiortc's paced 8 kHz mono audio, carrying a sine of the given frequency and level."""

    def __init__(self, frequency: float = 1000.0, dbfs: float = -6.0) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = 32767 * 10 ** (dbfs / 20)

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        assert isinstance(frame, av.AudioFrame)
        rate, start = frame.sample_rate, frame.pts or 0
        samples = array.array(
            "h",
            (
                round(self.amplitude * math.sin(2 * math.pi * self.frequency * (start + i) / rate))
                for i in range(frame.samples)
            ),
        )
        frame.planes[0].update(samples.tobytes())
        return frame


class Client:
    """A browser stand-in: one RTCPeerConnection, sending and recording what it receives."""

    def __init__(
        self,
        video: MediaStreamTrack | None = None,
        *,
        audio: MediaStreamTrack | None = None,
        kinds: tuple[str, ...] = ("audio", "video"),
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
            kinds = ()
        if "audio" in kinds:
            self.pc.addTransceiver(audio or AudioStreamTrack(), direction="sendrecv")
        if "video" in kinds:
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
                    self.video_frames.append((frame.width, frame.height, frame_brightness(frame)))
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            pass

    def vanish(self) -> None:
        """Go silent at once, like a browser whose tab is killed or whose network is gone: the
        UDP sockets close and nothing more is sent (no DTLS close alert, no RTCP BYE)."""
        for transport in ice_transports(self.pc):
            close_ice_sockets(transport)

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def join(relay: Relay, peer_id: str, client: Client) -> None:
    """Offer from client, answer from the relay as peer_id."""
    await client.accept(await relay.answer(peer_id, await client.offer()))


def receiving_video(relay: Relay, peer_id: str) -> bool:
    """Whether the relay has received video from peer_id."""
    peer = relay.peer(peer_id)
    return peer is not None and any(
        r.getSynchronizationSources() for r in peer.pc.getReceivers() if r.track.kind == "video"
    )


async def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait until condition() is true; fail the test after that many seconds."""
    try:
        async with asyncio.timeout(seconds):
            while not condition():  # noqa: ASYNC110 (aiortc state changes raise no event)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"condition not met within {seconds} s") from None


def shown(y: int) -> float:
    """The display luma (0-255) of a grey pixel of limited-range Y value y (BT.601)."""
    return max(0.0, min(255.0, (y - 16) * 255 / 219))
