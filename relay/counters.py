"""RelayCounters and KindCounters: running totals the relay keeps for tests, panel and /metrics."""

from dataclasses import dataclass


@dataclass
class RelayCounters:
    """Totals since the relay started (peer_connections_open and probes_running are current values).

    packets_forwarded: encoded frames handed to a sender (one per video frame or audio packet).
    frames_transcoded: decoded frames handed to a sender to encode (codecs differ; see
        relay/transcode.py).
    keyframe_requests_forwarded: picture-loss requests the relay sent to a source browser.
    passthrough_decoders: receiver "decoders" that only pass encoded frames on.
    real_decoders: decoders that really decode, created for a call leg's receiver (must stay 0).
    probe_decoders: decoders created for a device-test probe's receiver (they really decode).
    peer_connections_open: RTCPeerConnections created by the relay and not yet closed.
    probes_running: device-test probes whose connection is not yet closed.
    """

    packets_forwarded: int = 0
    frames_transcoded: int = 0
    keyframe_requests_forwarded: int = 0
    passthrough_decoders: int = 0
    real_decoders: int = 0
    probe_decoders: int = 0
    peer_connections_open: int = 0
    probes_running: int = 0

    def count_decoder(self, passthrough: bool) -> None:
        """Count one decoder created for a call leg's receiver."""
        if passthrough:
            self.passthrough_decoders += 1
        else:
            self.real_decoders += 1

    def count_probe_decoder(self, passthrough: bool) -> None:
        """Count one decoder created for a probe's receiver (passthrough is always False there)."""
        self.probe_decoders += 1


@dataclass
class KindCounters:
    """What the relay counts itself for one kind of one peer, where aiortc's stats have nothing.

    bytes_received: encoded media bytes handed to the receiver's decoder (RTP headers and payload
        descriptors left out). Written by the receiver's decoder thread, read on the event loop.
    keyframe_requests_sent: picture-loss requests sent to the browser (the relay's and aiortc's).
    keyframe_requests_received: PLI/FIR the browser sent to the relay's sender.
    """

    bytes_received: int = 0
    keyframe_requests_sent: int = 0
    keyframe_requests_received: int = 0

    def count_encoded(self, size: int) -> None:
        """One encoded frame of size bytes reached the decoder (called in the decoder thread)."""
        self.bytes_received += size

    def count_keyframe_request_sent(self) -> None:
        self.keyframe_requests_sent += 1

    def count_keyframe_request_received(self) -> None:
        self.keyframe_requests_received += 1
