"""Live statistics of the relay's peers, for the panel and /metrics: aiortc's stats, our totals.

Where each number comes from:
- "out" (relay -> browser): the sender's "outbound-rtp" stats (packets, payload bytes) and its
  "remote-inbound-rtp" stats, built from the browser's RTCP receiver reports (packets lost,
  jitter, round-trip time). Before the first report those are None.
- "in" (browser -> relay): aiortc's per-SSRC reception statistics without the RTX streams
  (aiortc_hooks.received_streams: packets, lost, jitter) and the relay's own KindCounters
  (encoded bytes; aiortc counts no received bytes).
- keyframe requests: KindCounters (PLI/FIR received on "out", PLIs sent upstream on "in").
- path: the nominated ICE candidate pair ("relay" when either candidate is a TURN relay one).
"""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiortc import (
    RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCRtpReceiver,
    RTCRtpSender,
)

from relay.aiortc_hooks import nominated_candidate_types, received_streams
from relay.peer import Peer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectionStats:
    """One kind, one direction of one peer, as the relay sees it.

    direction: "in" (browser -> relay) or "out" (relay -> browser).
    bitrate_kbps: encoded media over the last sampling interval (the first interval starts when
        the peer was made).
    packets: RTP packets received ("in") or sent ("out"). packets_lost, loss_percent: since the
        start; on "out" they come from the browser's receiver reports, so they stay 0 until the
        first one (and loss_percent is 0 while nothing was expected).
    jitter_ms: interarrival jitter as measured by the receiving end.
    rtt_ms: round-trip time from the browser's receiver reports ("out" only).
    keyframe_requests: PLI/FIR received from the browser ("out"), PLIs sent to it ("in").
    transcoded: "out" only: the relay decodes its source and encodes this direction anew
        (the two browsers share no codec for kind); False means forwarded as encoded.
    """

    kind: str
    direction: str
    codec: str | None
    bitrate_kbps: float
    packets: int
    packets_lost: int
    loss_percent: float
    jitter_ms: float | None
    rtt_ms: float | None
    keyframe_requests: int
    transcoded: bool = False


@dataclass(frozen=True)
class PeerStats:
    """One open peer connection: a call leg (forwarded=True) or a device-test probe (False).

    path: "direct" or "relay" (TURN), None before ICE nominated a candidate pair.
    """

    peer_id: str
    state: str
    path: str | None
    forwarded: bool
    directions: tuple[DirectionStats, ...]
    duration_s: float


@dataclass(frozen=True)
class DirectionReading:
    """One direction read at one moment: its stats (bitrate not yet known) and its byte total."""

    stats: DirectionStats
    bytes: int


async def read_directions(peer: Peer) -> list[DirectionReading]:
    """Both directions of every negotiated kind of peer (bitrates left at 0)."""
    readings = []
    for transceiver in peer.pc.getTransceivers():
        kind = transceiver.kind
        if kind in peer.codecs and kind in peer.totals:
            readings.append(_read_in(peer, kind, transceiver.receiver))
            readings.append(await _read_out(peer, kind, transceiver.sender))
    return readings


def connection_path(peer: Peer) -> str | None:
    """ "relay" if the connection goes through a TURN server, "direct" if not, None if unknown."""
    types = [
        pair
        for transport in {t.receiver.transport.transport for t in peer.pc.getTransceivers()}
        for pair in nominated_candidate_types(transport)
    ]
    if not types:
        return None
    return "relay" if any("relay" in pair for pair in types) else "direct"


def loss_percent(received: int, lost: int) -> float | None:
    """Lost packets as a percentage of the packets expected; None when none were expected."""
    expected = received + lost
    return 100.0 * lost / expected if expected > 0 else None


class StatsSampler:
    """Turns successive readings into PeerStats; keeps each peer's previous byte counts so a
    bitrate covers the interval since the previous sample."""

    def __init__(self) -> None:
        self._previous: dict[Peer, dict[tuple[str, str], tuple[int, float]]] = {}

    async def sample(self, peers: Sequence[Peer]) -> list[PeerStats]:
        """The stats of peers now (peers left out forget their previous sample)."""
        readings = await asyncio.gather(
            *(read_directions(peer) for peer in peers), return_exceptions=True
        )
        now = time.monotonic()
        previous, self._previous = self._previous, {}
        result = []
        for peer, reading in zip(peers, readings, strict=True):
            if isinstance(reading, BaseException):
                logger.warning("peer %s: stats unavailable: %r", peer.peer_id, reading)
                continue
            before = previous.get(peer, {})
            kept = self._previous[peer] = {}
            directions = []
            for r in reading:
                key = (r.stats.kind, r.stats.direction)
                last_bytes, last_time = before.get(key, (0, peer.started))
                kept[key] = (r.bytes, now)
                elapsed = now - last_time
                bits = 8 * max(0, r.bytes - last_bytes)
                bitrate = bits / elapsed / 1000 if elapsed > 0 else 0.0
                directions.append(dataclasses.replace(r.stats, bitrate_kbps=bitrate))
            result.append(
                PeerStats(
                    peer_id=peer.peer_id,
                    state=peer.connection_state,
                    path=connection_path(peer),
                    forwarded=peer.forwarded,
                    directions=tuple(directions),
                    duration_s=now - peer.started,
                )
            )
        return result


def _read_in(peer: Peer, kind: str, receiver: RTCRtpReceiver) -> DirectionReading:
    streams = received_streams(receiver)
    received = sum(s.packets_received for s in streams)
    lost = sum(max(0, s.packets_lost) for s in streams)  # negative: duplicates
    jitters = [1000 * s.jitter / s.clock_rate for s in streams if s.clock_rate]
    stats = DirectionStats(
        kind=kind,
        direction="in",
        codec=peer.codecs.get(kind),
        bitrate_kbps=0.0,
        packets=received,
        packets_lost=lost,
        loss_percent=loss_percent(received, lost) or 0.0,
        jitter_ms=max(jitters) if jitters else None,
        rtt_ms=None,
        keyframe_requests=peer.totals[kind].keyframe_requests_sent,
    )
    return DirectionReading(stats, peer.totals[kind].bytes_received)


async def _read_out(peer: Peer, kind: str, sender: RTCRtpSender) -> DirectionReading:
    report = (await sender.getStats()).values()
    sent = next((s for s in report if isinstance(s, RTCOutboundRtpStreamStats)), None)
    remote = next((s for s in report if isinstance(s, RTCRemoteInboundRtpStreamStats)), None)
    clock_rate = peer.clock_rates.get(kind)
    jitter_ms = rtt_ms = None
    lost, lost_percent = 0, 0.0
    if remote is not None:
        lost = max(0, remote.packetsLost)
        lost_percent = loss_percent(remote.packetsReceived, lost) or 0.0
        if clock_rate:
            jitter_ms = 1000 * remote.jitter / clock_rate
        if remote.roundTripTime is not None:
            rtt_ms = 1000 * remote.roundTripTime
    stats = DirectionStats(
        kind=kind,
        direction="out",
        codec=peer.codecs.get(kind),
        bitrate_kbps=0.0,
        packets=0 if sent is None else sent.packetsSent,
        packets_lost=lost,
        loss_percent=lost_percent,
        jitter_ms=jitter_ms,
        rtt_ms=rtt_ms,
        keyframe_requests=peer.totals[kind].keyframe_requests_received,
        transcoded=peer.transcoding(kind),
    )
    return DirectionReading(stats, 0 if sent is None else sent.bytesSent)
