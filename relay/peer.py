"""Peer: one browser's RTCPeerConnection to the relay, from its offer to its close."""

import abc
import asyncio
import logging
import time
from collections.abc import Callable
from typing import ClassVar

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
)

from relay.aiortc_hooks import (
    gather_on,
    observe_keyframe_requests,
    observe_keyframe_requests_sent,
    register_receiver_track,
)
from relay.codecs import preferred_codecs, subtype
from relay.config import RelayConfig
from relay.counters import KindCounters, RelayCounters
from relay.errors import OfferError
from relay.liveness import SilenceWatch
from relay.sdp import Offer, answer_codecs, reject_sections

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


class Peer(abc.ABC):
    """The relay's end of one browser connection: negotiation, state, the relay's totals, close.

    What the relay sends and what it does with what it receives is the subclass's: a call leg
    (relay/leg.py) forwards encoded media, a device-test probe (relay/probe.py) decodes it.

    forwarded: True when received media stays encoded (never decoded), False when decoded.
    codecs[kind]: the codec negotiated for kind, lowercase ("vp8"; both directions use it).
    clock_rates[kind]: that codec's RTP clock rate.
    totals[kind]: what the relay counts itself for kind (bytes received, keyframe requests).
    started: time.monotonic() when the peer was made.
    """

    forwarded: ClassVar[bool]

    def __init__(
        self,
        peer_id: str,
        config: RelayConfig,
        counters: RelayCounters,
        on_state: Callable[["Peer", str], None] | None = None,
    ) -> None:
        self.peer_id = peer_id
        self.codecs: dict[str, str] = {}
        self.clock_rates: dict[str, int] = {}
        self.totals: dict[str, KindCounters] = {}
        self.started = time.monotonic()
        self._config = config
        self._counters = counters
        self._on_state = on_state
        self._closing: asyncio.Future[None] | None = None
        self._silence: SilenceWatch | None = None
        self._silent = False  # the browser went silent: taken as gone (relay/liveness.py)
        self._pc = RTCPeerConnection(rtc_configuration(config))
        counters.peer_connections_open += 1
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_connection_state_change)

    @property
    def connection_state(self) -> str:
        """aiortc's connectionState: new, connecting, connected, failed or closed; "failed" also
        once the browser went silent for config.silence_timeout_seconds (until closed)."""
        state = str(self._pc.connectionState)
        return "failed" if self._silent and state != "closed" else state

    @property
    def pc(self) -> RTCPeerConnection:
        """The underlying RTCPeerConnection (for stats and tests)."""
        return self._pc

    @property
    def closed(self) -> bool:
        """Whether close() has been called."""
        return self._closing is not None

    async def answer(self, offer: Offer) -> str:
        """Apply an inspected offer and return the answer, with every candidate gathered."""
        for kind in offer.kinds:
            totals = self.totals[kind] = KindCounters()
            track = self._sender_track(kind)
            transceiver = self._pc.addTransceiver(
                kind if track is None else track, direction="sendrecv"
            )
            transceiver.setCodecPreferences(preferred_codecs(kind, self._answer_codec(offer, kind)))
            self._sender_ready(kind, transceiver.sender)
            observe_keyframe_requests(transceiver.sender, totals.count_keyframe_request_received)
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            with gather_on(self._config.host_addresses):
                await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:
            logger.info("peer %s: offer refused by aiortc: %r", self.peer_id, exc)
            raise OfferError("invalid_sdp", "The offer could not be applied.") from exc
        self._silence = SilenceWatch(
            self._pc, self._config.silence_timeout_seconds, self._went_silent
        )
        answer = reject_sections(self._pc.localDescription.sdp, offer.rejected)
        negotiated = answer_codecs(answer)
        self.codecs = {kind: subtype(codec.mimeType) for kind, codec in negotiated.items()}
        self.clock_rates = {kind: codec.clockRate for kind, codec in negotiated.items()}
        logger.debug("peer %s: answer\n%s", self.peer_id, answer)
        return answer

    async def close(self) -> None:
        """Close the connection and its media (idempotent; a second call waits for the first)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    def transcoding(self, kind: str) -> bool:
        """Whether what the relay sends this browser for kind is decoded and encoded anew."""
        return False

    def _codec_order(self, kind: str) -> tuple[str, ...]:
        """The codec names to negotiate for kind, most wanted first."""
        return self._config.codecs_for(kind)

    def _answer_codec(self, offer: Offer, kind: str) -> tuple[str, ...]:
        """The one codec the answer will carry for kind: the most wanted one the browser offers.

        With a single codec in the answer, the browser can only send that one, so what the relay
        forwards is always in the codec it negotiated with the other side.
        """
        order = self._codec_order(kind)
        offered = offer.codecs.get(kind, ())
        chosen = next((name for name in order if name.lower() in offered), None)
        return order if chosen is None else (chosen,)

    @abc.abstractmethod
    def _sender_track(self, kind: str) -> MediaStreamTrack | None:
        """The track the relay sends to the browser for kind (None: send nothing)."""

    def _sender_ready(self, kind: str, sender: RTCRtpSender) -> None:  # noqa: B027
        """The sender for kind exists (a subclass may set it up)."""

    @abc.abstractmethod
    def _received(self, track: MediaStreamTrack, receiver: RTCRtpReceiver) -> None:
        """The browser's track of a kind arrived (registered with the decoder hooks already)."""

    @abc.abstractmethod
    def _count_decoder(self, passthrough: bool) -> None:
        """A decoder was made for one of this peer's receivers."""

    @abc.abstractmethod
    async def _close_media(self) -> None:
        """Stop the subclass's media work; runs once, before the connection closes."""

    def _on_track(self, track: MediaStreamTrack) -> None:
        receiver = next(r for r in self._pc.getReceivers() if r.track is track)
        totals = self.totals.setdefault(track.kind, KindCounters())
        register_receiver_track(
            track,
            passthrough=self.forwarded,
            on_decoder=self._count_decoder,
            on_encoded=totals.count_encoded,
        )
        observe_keyframe_requests_sent(receiver, totals.count_keyframe_request_sent)
        self._received(track, receiver)

    def _on_connection_state_change(self) -> None:
        state = self.connection_state
        logger.info("peer %s: connection %s", self.peer_id, state)
        if self._on_state is not None:
            self._on_state(self, state)

    def _went_silent(self, seconds: float) -> None:
        logger.warning("peer %s: nothing received for %.1f s, taken as gone", self.peer_id, seconds)
        self._silent = True
        self._on_connection_state_change()

    async def _close(self) -> None:
        if self._silence is not None:
            await self._silence.close()
        try:
            await self._close_media()
        except Exception:
            logger.warning("peer %s: error while stopping media", self.peer_id, exc_info=True)
        try:
            await self._pc.close()
        except Exception:  # a connection left half-built by a bad offer can fail to close
            logger.warning("peer %s: error while closing", self.peer_id, exc_info=True)
        finally:
            self._counters.peer_connections_open -= 1
