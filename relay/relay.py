"""Relay: the media plane's entry point; answers offers and forwards media between paired peers.

Media is forwarded encoded (SFU passthrough), so both peers of a pair must use the same codec for
a kind. Codec preferences make that the rule (VP8, then H264; opus); if two legs still end up
with different codecs for a kind (e.g. an H264-only browser facing a VP8 one), that kind is not
forwarded and a warning is logged: transcoding is left for later.
"""

import asyncio
import itertools
import logging
from collections.abc import Callable

from relay import aiortc_hooks
from relay.config import RelayConfig
from relay.counters import RelayCounters
from relay.errors import OfferError
from relay.peer import Peer
from relay.sdp import MEDIA_KINDS, inspect_offer

REPORTED_STATES = frozenset({"connected", "failed", "closed"})

logger = logging.getLogger(__name__)


class Relay:
    """Peers by id, and which peer forwards to which.

    on_state_change(peer_id, state) is called for "connected", "failed" and "closed" of the
    current connection of a peer id. A connection replaced by a new offer for the same id
    reports nothing; close_peer() reports "closed"; close() reports nothing.
    A pairing outlives the connections: it applies to every later connection of either id,
    until unpair().
    """

    def __init__(self, config: RelayConfig) -> None:
        aiortc_hooks.install()
        self.config = config
        self.counters = RelayCounters()
        self.on_state_change: Callable[[str, str], None] | None = None
        self._peers: dict[str, Peer] = {}
        self._partners: dict[str, str] = {}
        self._pending: dict[str, int] = {}  # peer id -> ticket of its latest answer() in progress
        self._tickets = itertools.count()

    async def answer(self, peer_id: str, offer_sdp: str) -> str:
        """Answer a browser's offer for peer_id, replacing that peer's previous connection.

        Raises OfferError (with a code) for an offer the relay cannot serve, and
        OfferError("superseded") if another answer() or close_peer() for peer_id won meanwhile.
        """
        offer = inspect_offer(offer_sdp, self.config)
        ticket = self._pending[peer_id] = next(self._tickets)
        try:
            await self._drop(peer_id)
            peer = Peer(peer_id, self.config, self.counters, self._peer_state_changed)
            try:
                answer = await peer.answer(offer)
            except BaseException:
                await peer.close()
                raise
            if self._pending.get(peer_id) != ticket:
                await peer.close()
                raise OfferError("superseded", "A newer offer or a close replaced this offer.")
        finally:
            if self._pending.get(peer_id) == ticket:
                del self._pending[peer_id]
        stale = self._peers.pop(peer_id, None)  # registered while this one was negotiated
        self._peers[peer_id] = peer
        logger.info("peer %s: answered (%s)", peer_id, _describe(peer.codecs))
        partner = self._partners.get(peer_id)
        if partner is not None:
            self._link(peer_id, partner)
        if stale is not None:
            await stale.close()
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
            peer = self._peers.get(peer_id)
            if peer is not None:
                for pump in peer.incoming.values():
                    pump.disconnect()
        logger.info("peers %s and %s unpaired", a, b)

    async def close_peer(self, peer_id: str) -> None:
        """Close peer_id's connection (its pairing stays, for a later connection)."""
        self._pending.pop(peer_id, None)
        if await self._drop(peer_id):
            self._report(peer_id, "closed")

    async def close(self) -> None:
        """Close every connection and forget every pairing."""
        peers = list(self._peers.values())
        self._peers.clear()
        self._pending.clear()
        self._partners.clear()
        await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)

    def connection_state(self, peer_id: str) -> str | None:
        """aiortc's connectionState of peer_id's current connection, or None."""
        peer = self._peers.get(peer_id)
        return None if peer is None else peer.connection_state

    def peer(self, peer_id: str) -> Peer | None:
        """peer_id's current connection (for stats and tests)."""
        return self._peers.get(peer_id)

    async def _drop(self, peer_id: str) -> bool:
        """Unregister and close peer_id's connection; its events are no longer reported."""
        peer = self._peers.pop(peer_id, None)
        if peer is None:
            return False
        await peer.close()
        logger.info("peer %s: closed", peer_id)
        return True

    def _link(self, a: str, b: str) -> None:
        """Connect the pumps of a and b both ways, for every kind whose codecs match."""
        peer_a, peer_b = self._peers.get(a), self._peers.get(b)
        if peer_a is None or peer_b is None:
            return
        for kind in MEDIA_KINDS:
            for source, sink in ((peer_a, peer_b), (peer_b, peer_a)):
                pump, track = source.incoming.get(kind), sink.outgoing.get(kind)
                if pump is None or track is None:
                    continue
                if source.codecs.get(kind) != sink.codecs.get(kind):
                    logger.warning(
                        "peer %s -> %s: %s not forwarded, codecs differ (%s, %s)",
                        source.peer_id,
                        sink.peer_id,
                        kind,
                        source.codecs.get(kind),
                        sink.codecs.get(kind),
                    )
                    continue
                pump.connect(track)

    def _peer_state_changed(self, peer: Peer, state: str) -> None:
        if self._peers.get(peer.peer_id) is peer and state in REPORTED_STATES:
            self._report(peer.peer_id, state)

    def _report(self, peer_id: str, state: str) -> None:
        if self.on_state_change is None:
            return
        try:
            self.on_state_change(peer_id, state)
        except Exception:
            logger.exception("peer %s: on_state_change failed", peer_id)


def _describe(codecs: dict[str, str]) -> str:
    return ", ".join(f"{kind} {name}" for kind, name in sorted(codecs.items())) or "no media"
