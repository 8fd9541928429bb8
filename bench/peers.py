"""Benchmark peers: aiortc connections on 127.0.0.1 that send the replayed clip and either count
what they receive (no decoding: cheap enough for many calls at once) or decode it and time each
frame by the code it carries.

A Call is two Users, a and b; each sends to the other. How their connections reach each other
(directly, through Atende's relay, the baseline server or Janus) is a Target's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from bench.media import Clip, ReplayTrack, read_audio_code, read_video_code
from relay.aiortc_hooks import (
    gather_on,
    install,
    received_streams,
    register_receiver_track,
    set_keyframe_request_handler,
)
from relay.codecs import preferred_codecs

LOOPBACK = ("127.0.0.1",)
CODECS = {"audio": ("opus",), "video": ("VP8",)}
KINDS = ("audio", "video")


async def make_offer(pc: RTCPeerConnection) -> str:
    """The offer, every candidate gathered on loopback (no trickle)."""
    with gather_on(LOOPBACK):
        await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def make_answer(pc: RTCPeerConnection, offer_sdp: str) -> str:
    """Apply a remote offer and return the answer, gathered on loopback."""
    await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
    with gather_on(LOOPBACK):
        await pc.setLocalDescription(await pc.createAnswer())
    return str(pc.localDescription.sdp)


async def accept(pc: RTCPeerConnection, answer_sdp: str) -> None:
    await pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))


@dataclass
class Reception:
    """One received track: frames (encoded frames when counting, decoded when decoding),
    encoded bytes (counting only), when the first frame came, delays of coded frames (s)."""

    kind: str
    receiver: RTCRtpReceiver
    frames: int = 0
    bytes: int = 0
    first_frame_at: float | None = None
    delays: list[float] = field(default_factory=list)

    def add_bytes(self, size: int) -> None:  # in the receiver's decoder thread
        self.bytes += size

    def packets(self) -> tuple[int, int]:
        """RTP packets received and lost so far (retransmission streams left out)."""
        streams = received_streams(self.receiver)
        received = sum(s.packets_received for s in streams)
        lost = sum(max(0, s.packets_lost) for s in streams)
        return received, lost


@dataclass(frozen=True)
class Tally:
    """One kind, one direction of a call, counted over some time."""

    frames_sent: int = 0
    frames_received: int = 0
    packets_received: int = 0
    packets_lost: int = 0
    bytes_received: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.frames_sent + other.frames_sent,
            self.frames_received + other.frames_received,
            self.packets_received + other.packets_received,
            self.packets_lost + other.packets_lost,
            self.bytes_received + other.bytes_received,
        )

    def __sub__(self, other: Tally) -> Tally:
        return Tally(
            self.frames_sent - other.frames_sent,
            self.frames_received - other.frames_received,
            self.packets_received - other.packets_received,
            self.packets_lost - other.packets_lost,
            self.bytes_received - other.bytes_received,
        )

    @property
    def loss_percent(self) -> float:
        expected = self.packets_received + self.packets_lost
        return 100.0 * self.packets_lost / expected if expected > 0 else 0.0

    @property
    def delivered_percent(self) -> float:
        if self.frames_sent <= 0:
            return 0.0
        return min(100.0, 100.0 * self.frames_received / self.frames_sent)


class User:
    """One side of a call: a camera and microphone replaying the clip, and what it received.

    decode=False: received media is counted encoded (relay/aiortc_hooks' passthrough decoder);
    decode=True: decoded as a browser would, and every coded frame timed against the partner's
    send time.
    """

    def __init__(self, clip: Clip, name: str, *, decode: bool) -> None:
        install()
        self.name = name
        self.decode = decode
        self.tracks = {"audio": ReplayTrack.audio(clip), "video": ReplayTrack.video(clip)}
        self.partner: User | None = None
        self.received: dict[str, Reception] = {}
        self.pcs: list[RTCPeerConnection] = []
        self._readers: list[asyncio.Task[None]] = []

    def sending_pc(self, *, receive: bool = True) -> RTCPeerConnection:
        """A connection that offers (or answers with) this user's tracks, VP8 and Opus only."""
        pc = self._new_pc()
        for kind in KINDS:
            track = self.tracks[kind]
            transceiver = pc.addTransceiver(track, direction="sendrecv" if receive else "sendonly")
            transceiver.setCodecPreferences(preferred_codecs(kind, CODECS[kind]))
            if kind == "video":
                set_keyframe_request_handler(transceiver.sender, track.request_keyframe)
        return pc

    def receiving_pc(self) -> RTCPeerConnection:
        """A connection that only receives, answering the server's offer (Janus subscriber)."""
        return self._new_pc()

    def tally(self, kind: str) -> Tally:
        """What this user received of kind so far, against what the partner sent."""
        reception = self.received.get(kind)
        sent = self.partner.tracks[kind].sent if self.partner is not None else 0
        if reception is None:
            return Tally(frames_sent=sent)
        received, lost = reception.packets()
        return Tally(sent, reception.frames, received, lost, reception.bytes)

    def clear_delays(self) -> None:
        for reception in self.received.values():
            reception.delays.clear()

    def got_video(self) -> bool:
        reception = self.received.get("video")
        return reception is not None and reception.frames > 0

    async def close(self) -> None:
        for track in self.tracks.values():
            track.stop()
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    def _new_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # []: no public STUN server
        pc.on("track", lambda track: self._on_track(pc, track))
        self.pcs.append(pc)
        return pc

    def _on_track(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        receiver = next(t.receiver for t in pc.getTransceivers() if t.receiver.track is track)
        reception = self.received[track.kind] = Reception(track.kind, receiver)
        if not self.decode:
            register_receiver_track(
                track, passthrough=True, on_decoder=_ignore, on_encoded=reception.add_bytes
            )
        self._readers.append(asyncio.ensure_future(self._read(track, reception)))

    async def _read(self, track: MediaStreamTrack, reception: Reception) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                item = await track.recv()
                now = time.monotonic()
                reception.frames += 1
                if reception.first_frame_at is None:
                    reception.first_frame_at = now
                if self.partner is None:
                    continue
                source = self.partner.tracks[reception.kind]
                if isinstance(item, av.VideoFrame):
                    code = read_video_code(item)
                elif isinstance(item, av.AudioFrame):
                    code = read_audio_code(item)
                else:
                    continue
                sent = source.sent_at.get(code) if code is not None else None
                if sent is not None and 0 <= now - sent < source.code_cycle / 2:
                    reception.delays.append(now - sent)


def _ignore(_passthrough: bool) -> None:
    pass


class Call:
    """Two users sending to each other; call_id names it on the server."""

    def __init__(self, clip: Clip, call_id: str, *, decode: bool = False) -> None:
        self.call_id = call_id
        self.a = User(clip, f"{call_id}-a", decode=decode)
        self.b = User(clip, f"{call_id}-b", decode=decode)
        self.a.partner, self.b.partner = self.b, self.a

    @property
    def users(self) -> tuple[User, User]:
        return self.a, self.b

    def flowing(self) -> bool:
        """Video has arrived on both sides."""
        return self.a.got_video() and self.b.got_video()

    def tally(self, kind: str) -> Tally:
        """Both directions of kind, added up."""
        return self.a.tally(kind) + self.b.tally(kind)

    async def close(self) -> None:
        await asyncio.gather(self.a.close(), self.b.close())


async def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll condition until true or seconds pass; whether it came true."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
