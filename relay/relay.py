"""Relay: the media plane's entry point: answers offers, forwards media, runs device tests.

Media is forwarded encoded (SFU passthrough), so both peers of a pair should use the same codec
for a kind. Codec preferences make that the rule (VP8, then H264; opus), and a leg answered
after its partner tries the partner's codec first. If two legs still end up with different codecs
for a kind (an H264-only browser facing a VP8-only one), that direction is transcoded: decoded
(relay/transcode.py) and re-encoded by the sink's sender, and the stats say so.
"""

import asyncio
import logging
from collections.abc import Callable

from relay import aiortc_hooks
from relay.config import RelayConfig
from relay.connections import Connections
from relay.counters import RelayCounters
from relay.errors import OfferError
from relay.leg import CallLeg
from relay.peer import Peer
from relay.probe import Probe, ProbeReport
from relay.sdp import MEDIA_KINDS, inspect_offer
from relay.stats import PeerStats, StatsSampler
from relay.transcode import Transcoder

REPORTED_STATES = frozenset({"connected", "failed", "closed"})
ENDED_STATES = frozenset({"failed", "closed"})

logger = logging.getLogger(__name__)


class Relay:
    """Call legs by peer id and which leg forwards to which; device-test probes by probe id.

    on_state_change(peer_id, state) is called for "connected", "failed" and "closed" of the
    current connection of a peer id (call legs only). A connection replaced by a new offer for
    the same id reports nothing; close_peer() reports "closed"; close() reports nothing.
    A connection that ends by itself reports once and is then closed and forgotten by the relay
    (connection_state() is None after): "failed" when ICE or DTLS failed or the browser sent
    nothing for config.silence_timeout_seconds (tab killed, network gone), "closed" when the
    browser closed it.
    A pairing outlives the connections: it applies to every later connection of either id,
    until unpair(). Probe ids are a namespace of their own.
    """

    def __init__(self, config: RelayConfig) -> None:
        aiortc_hooks.install()
        self.config = config
        self.counters = RelayCounters()
        self.on_state_change: Callable[[str, str], None] | None = None
        self._legs: Connections[CallLeg] = Connections()
        self._probes: Connections[Probe] = Connections()
        self._partners: dict[str, str] = {}
        self._sampler = StatsSampler()

    async def answer(self, peer_id: str, offer_sdp: str) -> str:
        """Answer a browser's offer for peer_id, replacing that peer's previous connection.

        Raises OfferError (with a code) for an offer the relay cannot serve, and
        OfferError("superseded") if another answer() or close_peer() for peer_id won meanwhile.
        """
        offer = inspect_offer(offer_sdp, self.config)
        partner_leg = self._legs.get(self._partners.get(peer_id, ""))
        leg = CallLeg(
            peer_id, self.config, self.counters, self._leg_state_changed,
            partner_codecs=None if partner_leg is None else partner_leg.codecs,
        )  # fmt: skip
        answer = await self._legs.open(peer_id, leg, offer)
        logger.info("peer %s: answered (%s)", peer_id, _describe(leg.codecs))
        partner = self._partners.get(peer_id)
        if partner is not None:
            self._link(peer_id, partner)
        return answer

    def pair(self, a: str, b: str) -> None:
        """Forward a's media to b and b's to a, now and for later connections of a and b."""
        if a == b:
            raise ValueError("a peer cannot be paired with itself")
        if self._partners.get(a) == b:
            return
        self.unpair(a)
        self.unpair(b)
        self._partners[a] = b
        self._partners[b] = a
        logger.info("peers %s and %s paired", a, b)
        self._link(a, b)

    def unpair(self, a: str) -> None:
        """Stop forwarding between a and its partner (if any)."""
        b = self._partners.pop(a, None)
        if b is None:
            return
        self._partners.pop(b, None)
        for peer_id in (a, b):
            leg = self._legs.get(peer_id)
            if leg is not None:
                for pump in leg.incoming.values():
                    pump.disconnect()
        logger.info("peers %s and %s unpaired", a, b)

    async def close_peer(self, peer_id: str) -> None:
        """Close peer_id's connection (its pairing stays, for a later connection)."""
        if await self._legs.close(peer_id):
            self._report(peer_id, "closed")

    async def answer_probe(self, probe_id: str, offer_sdp: str) -> str:
        """Answer a device test's offer (same format as a call's), replacing probe_id's previous
        test. The relay decodes and measures what arrives, and sends the video back.

        Raises OfferError like answer(), and OfferError("busy") when config.max_probes tests
        are already running.
        """
        offer = inspect_offer(offer_sdp, self.config)
        replaced = self._probes.get(probe_id)
        running = self.counters.probes_running
        if replaced is not None and not replaced.closed:
            running -= 1
        if running >= self.config.max_probes:
            raise OfferError("busy", "Too many device tests are running; try again shortly.")
        probe = Probe(probe_id, self.config, self.counters)
        answer = await self._probes.open(probe_id, probe, offer)
        logger.info("probe %s: answered (%s)", probe_id, _describe(probe.codecs))
        return answer

    def probe_report(self, probe_id: str) -> ProbeReport | None:
        """What probe_id measured so far (also after its connection ended); None if no probe."""
        probe = self._probes.get(probe_id)
        return None if probe is None else probe.report()

    async def close_probe(self, probe_id: str) -> ProbeReport | None:
        """Close probe_id's connection and forget it; its final report, or None if no probe."""
        probe = self._probes.get(probe_id)
        await self._probes.close(probe_id)
        return None if probe is None else probe.report()

    async def stats(self) -> list[PeerStats]:
        """One entry per open connection, call legs then probes; bitrates cover the time since
        the previous call (or since the connection was made)."""
        peers: list[Peer] = [*self._legs.values(), *self._probes.values()]
        return await self._sampler.sample([peer for peer in peers if not peer.closed])

    async def close(self) -> None:
        """Close every connection and forget every pairing."""
        self._partners.clear()
        await asyncio.gather(self._legs.close_all(), self._probes.close_all())

    def connection_state(self, peer_id: str) -> str | None:
        """aiortc's connectionState of peer_id's current connection, or None."""
        leg = self._legs.get(peer_id)
        return None if leg is None else leg.connection_state

    def peer(self, peer_id: str) -> CallLeg | None:
        """peer_id's current connection (for stats and tests)."""
        return self._legs.get(peer_id)

    def _link(self, a: str, b: str) -> None:
        """Connect the pumps of a and b both ways: encoded where the codecs match, transcoded
        where they differ."""
        leg_a, leg_b = self._legs.get(a), self._legs.get(b)
        if leg_a is None or leg_b is None:
            return
        for kind in MEDIA_KINDS:
            for source, sink in ((leg_a, leg_b), (leg_b, leg_a)):
                pump, track = source.incoming.get(kind), sink.outgoing.get(kind)
                if pump is None or track is None:
                    continue
                codec, sink_codec = source.codecs.get(kind), sink.codecs.get(kind)
                if pump.sink is track or codec is None or sink_codec is None:
                    continue  # linked already (codecs of a connection never change)
                pump.connect(track)
                if codec == sink_codec:
                    track.transcode_from(None)
                    continue
                logger.warning(
                    "peer %s -> %s: %s transcoded, codecs differ (%s, %s)",
                    source.peer_id, sink.peer_id, kind, codec, sink_codec,
                )  # fmt: skip
                track.transcode_from(Transcoder(kind, codec, source.clock_rates[kind]))

    def _leg_state_changed(self, leg: Peer, state: str) -> None:
        if self._legs.get(leg.peer_id) is not leg or state not in REPORTED_STATES:
            return
        if state in ENDED_STATES:  # failed, silent or closed by the browser: not ours to keep
            self._legs.discard(leg.peer_id, leg)
        self._report(leg.peer_id, state)

    def _report(self, peer_id: str, state: str) -> None:
        if self.on_state_change is None:
            return
        try:
            self.on_state_change(peer_id, state)
        except Exception:
            logger.exception("peer %s: on_state_change failed", peer_id)


def _describe(codecs: dict[str, str]) -> str:
    return ", ".join(f"{kind} {name}" for kind, name in sorted(codecs.items())) or "no media"
