"""CallLeg: a call's peer, whose media crosses the relay encoded to and from its partner."""

import asyncio
from collections.abc import Callable

from aiortc import MediaStreamTrack, RTCRtpReceiver, RTCRtpSender

from relay.aiortc_hooks import force_keyframe, set_keyframe_request_handler
from relay.config import RelayConfig
from relay.counters import RelayCounters
from relay.forward import ForwardTrack, Pump
from relay.keyframes import KeyframeRequester
from relay.peer import Peer


class CallLeg(Peer):
    """One browser of a call, as the relay sees it.

    outgoing[kind]: the ForwardTrack the relay sends to this browser (fed by the partner's pump).
    incoming[kind]: the Pump reading what this browser sends (encoded, never decoded).
    partner_codecs[kind]: the codec the partner's connection already uses, tried first so both
        legs agree and media is forwarded rather than transcoded.
    """

    forwarded = True

    def __init__(
        self,
        peer_id: str,
        config: RelayConfig,
        counters: RelayCounters,
        on_state: Callable[[Peer, str], None] | None = None,
        partner_codecs: dict[str, str] | None = None,
    ) -> None:
        super().__init__(peer_id, config, counters, on_state)
        self.outgoing: dict[str, ForwardTrack] = {}
        self.incoming: dict[str, Pump] = {}
        self.partner_codecs = dict(partner_codecs or {})

    def _codec_order(self, kind: str) -> tuple[str, ...]:
        names = super()._codec_order(kind)
        first = self.partner_codecs.get(kind)
        if first is None:
            return names
        return (first, *(name for name in names if name.lower() != first))

    def transcoding(self, kind: str) -> bool:
        track = self.outgoing.get(kind)
        return track is not None and track.transcoding

    def _sender_track(self, kind: str) -> MediaStreamTrack:
        track = self.outgoing[kind] = ForwardTrack(kind, self._counters)
        return track

    def _sender_ready(self, kind: str, sender: RTCRtpSender) -> None:
        if kind == "video":
            track = self.outgoing[kind]
            track.force_encoder_keyframe = lambda: force_keyframe(sender)
            set_keyframe_request_handler(sender, track.browser_requests_keyframe)

    def _received(self, track: MediaStreamTrack, receiver: RTCRtpReceiver) -> None:
        keyframes = None
        if track.kind == "video":
            keyframes = KeyframeRequester(receiver, self._count_keyframe_request)
        self.incoming[track.kind] = Pump(track, keyframes)

    def _count_decoder(self, passthrough: bool) -> None:
        self._counters.count_decoder(passthrough)

    def _count_keyframe_request(self) -> None:
        self._counters.keyframe_requests_forwarded += 1

    async def _close_media(self) -> None:
        await asyncio.gather(*(pump.close() for pump in self.incoming.values()))
        for track in self.outgoing.values():
            track.stop()
