"""Connections: the current peer of each id, where the newest offer or a close wins."""

import asyncio
import itertools
import logging
from typing import Generic, TypeVar

from relay.errors import OfferError
from relay.peer import Peer
from relay.sdp import Offer

P = TypeVar("P", bound=Peer)

logger = logging.getLogger(__name__)


class Connections(Generic[P]):
    """Peers by id. A new offer for an id replaces its connection; while an offer is being
    applied, a newer offer or a close() for the same id makes it fail as "superseded"."""

    def __init__(self) -> None:
        self._peers: dict[str, P] = {}
        self._pending: dict[str, int] = {}  # id -> ticket of its latest open() in progress
        self._tickets = itertools.count()
        self._closing: set[asyncio.Task[None]] = set()  # closes started by discard()

    def get(self, peer_id: str) -> P | None:
        return self._peers.get(peer_id)

    def values(self) -> list[P]:
        return list(self._peers.values())

    async def open(self, peer_id: str, peer: P, offer: Offer) -> str:
        """Answer offer with peer and make it peer_id's connection, closing the previous one.

        peer is closed if this fails: OfferError from Peer.answer(), or OfferError("superseded").
        """
        ticket = self._pending[peer_id] = next(self._tickets)
        try:
            await self._drop(peer_id)
            answer = await peer.answer(offer)
            if self._pending.get(peer_id) != ticket:
                raise OfferError("superseded", "A newer offer or a close replaced this offer.")
        except BaseException:
            await peer.close()
            raise
        finally:
            if self._pending.get(peer_id) == ticket:
                del self._pending[peer_id]
        stale = self._peers.pop(peer_id, None)  # registered while this one was negotiated
        self._peers[peer_id] = peer
        if stale is not None:
            await stale.close()
        return answer

    async def close(self, peer_id: str) -> bool:
        """Close peer_id's connection and fail its offer in progress; False if it had none."""
        self._pending.pop(peer_id, None)
        return await self._drop(peer_id)

    def discard(self, peer_id: str, peer: P) -> bool:
        """If peer is still peer_id's connection (its connection ended by itself), forget it and
        close it in the background; an offer in progress for peer_id is left alone."""
        if self._peers.get(peer_id) is not peer:
            return False
        del self._peers[peer_id]
        task = asyncio.ensure_future(peer.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        logger.info("peer %s: ended, closing", peer_id)
        return True

    async def close_all(self) -> None:
        """Close every connection (offers in progress fail as superseded)."""
        peers = list(self._peers.values())
        self._peers.clear()
        self._pending.clear()
        closes = [*(peer.close() for peer in peers), *self._closing]
        await asyncio.gather(*closes, return_exceptions=True)

    async def _drop(self, peer_id: str) -> bool:
        peer = self._peers.pop(peer_id, None)
        if peer is None:
            return False
        await peer.close()
        logger.info("peer %s: closed", peer_id)
        return True
