"""RelayCounters: running totals the relay keeps for tests, the panel and /metrics."""

from dataclasses import dataclass


@dataclass
class RelayCounters:
    """Totals since the relay started (peer_connections_open is a current value).

    packets_forwarded: encoded frames handed to a sender (one per video frame or audio packet).
    keyframe_requests_forwarded: picture-loss requests the relay sent to a source browser.
    passthrough_decoders: receiver "decoders" that only pass encoded frames on.
    real_decoders: decoders that really decode, created for a relay receiver (must stay 0 for
        call legs).
    peer_connections_open: RTCPeerConnections created by the relay and not yet closed.
    """

    packets_forwarded: int = 0
    keyframe_requests_forwarded: int = 0
    passthrough_decoders: int = 0
    real_decoders: int = 0
    peer_connections_open: int = 0

    def count_decoder(self, passthrough: bool) -> None:
        """Count one decoder created for a relay receiver."""
        if passthrough:
            self.passthrough_decoders += 1
        else:
            self.real_decoders += 1
