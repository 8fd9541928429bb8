"""Peer: one browser's RTCPeerConnection to the relay, from its offer to its close."""

import asyncio
import logging
from collections.abc import Callable

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from relay.aiortc_hooks import gather_on, register_receiver_track, set_keyframe_request_handler
from relay.codecs import preferred_codecs
from relay.config import RelayConfig
from relay.counters import RelayCounters
from relay.errors import OfferError
from relay.forward import ForwardTrack, Pump
from relay.keyframes import KeyframeRequester
from relay.sdp import Offer, answer_codecs

logger = logging.getLogger(__name__)


def rtc_configuration(config: RelayConfig) -> RTCConfiguration:
    """aiortc's configuration for the relay's side (an explicit empty list: aiortc's default
    would query a public STUN server)."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in config.ice_servers
        ]
    )


class Peer:
    """The relay's end of one browser connection.

    outgoing[kind]: the ForwardTrack the relay sends to this browser.
    incoming[kind]: the Pump reading what this browser sends (encoded, never decoded).
    codecs[kind]: the codec negotiated for kind (both directions use it).
    """

    def __init__(
        self,
        peer_id: str,
        config: RelayConfig,
        counters: RelayCounters,
        on_state: Callable[["Peer", str], None],
    ) -> None:
        self.peer_id = peer_id
        self.outgoing: dict[str, ForwardTrack] = {}
        self.incoming: dict[str, Pump] = {}
        self.codecs: dict[str, str] = {}
        self._config = config
        self._counters = counters
        self._on_state = on_state
        self._closed = False
        self._pc = RTCPeerConnection(rtc_configuration(config))
        counters.peer_connections_open += 1
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_connection_state_change)

    @property
    def connection_state(self) -> str:
        """aiortc's connectionState: new, connecting, connected, failed or closed."""
        return str(self._pc.connectionState)

    @property
    def pc(self) -> RTCPeerConnection:
        """The underlying RTCPeerConnection (for stats and tests)."""
        return self._pc

    async def answer(self, offer: Offer) -> str:
        """Apply an inspected offer and return the answer, with every candidate gathered."""
        for kind in offer.kinds:
            track = ForwardTrack(kind, self._counters)
            transceiver = self._pc.addTransceiver(track, direction="sendrecv")
            transceiver.setCodecPreferences(preferred_codecs(kind, self._config.codecs_for(kind)))
            if kind == "video":
                set_keyframe_request_handler(transceiver.sender, track.request_keyframe)
            self.outgoing[kind] = track
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            with gather_on(self._config.host_addresses):
                await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:
            logger.info("peer %s: offer refused by aiortc: %r", self.peer_id, exc)
            raise OfferError("invalid_sdp", "The offer could not be applied.") from exc
        answer = self._pc.localDescription.sdp
        self.codecs = answer_codecs(answer)
        logger.debug("peer %s: answer\n%s", self.peer_id, answer)
        return answer

    def _on_track(self, track: MediaStreamTrack) -> None:
        register_receiver_track(track, passthrough=True, on_decoder=self._counters.count_decoder)
        keyframes = None
        if track.kind == "video":
            receiver = next(r for r in self._pc.getReceivers() if r.track is track)
            keyframes = KeyframeRequester(receiver, self._count_keyframe_request)
        self.incoming[track.kind] = Pump(track, keyframes)

    def _count_keyframe_request(self) -> None:
        self._counters.keyframe_requests_forwarded += 1

    def _on_connection_state_change(self) -> None:
        state = self.connection_state
        logger.info("peer %s: connection %s", self.peer_id, state)
        self._on_state(self, state)

    async def close(self) -> None:
        """Close the connection, its pumps and tracks (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.gather(*(pump.close() for pump in self.incoming.values()))
            await self._pc.close()
        except Exception:  # a connection left half-built by a bad offer can fail to close
            logger.warning("peer %s: error while closing", self.peer_id, exc_info=True)
        finally:
            for track in self.outgoing.values():
                track.stop()
            self._counters.peer_connections_open -= 1
