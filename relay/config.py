"""Settings of the media relay: ICE servers, addresses, allowed remote networks, codecs, probes."""

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server the relay itself uses to gather candidates."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class RelayConfig:
    """How the relay gathers candidates, which remote candidates it takes, which codecs it forwards.

    ice_servers: STUN/TURN servers the relay uses (usually none: the relay is the public end).
    host_addresses: local addresses to gather host candidates on; () means every interface
        (aioice's default, which leaves out 127.0.0.1). Tests use ("127.0.0.1",).
    remote_networks: CIDRs; remote candidates outside them, and mDNS ".local" candidates, are
        dropped from an offer before ICE starts; () accepts any address (and resolves mDNS).
    video_codecs / audio_codecs: MIME subtypes the relay forwards, in order of preference.
    max_offer_bytes: the largest offer (SDP text) the relay reads.
    max_probes: device-test probes that may run at once (each decodes and re-encodes video).
    max_probe_seconds: a probe still open after this long is closed by the relay.
    silence_timeout_seconds: a browser the relay has received nothing from (not even an ICE
        consent check, which browsers send every ~5 s) for this long is taken as gone: its
        connection is closed and reported "failed" (relay/liveness.py). The default leaves three
        consent checks' worth of slack and still tells within 35 s (17 s at most).
    """

    ice_servers: tuple[IceServer, ...] = ()
    host_addresses: tuple[str, ...] = ()
    remote_networks: tuple[str, ...] = ()
    video_codecs: tuple[str, ...] = ("VP8", "H264")
    audio_codecs: tuple[str, ...] = ("opus", "PCMU", "PCMA")
    max_offer_bytes: int = 64 * 1024
    max_probes: int = 4
    max_probe_seconds: float = 60.0
    silence_timeout_seconds: float = 15.0

    def __post_init__(self) -> None:
        for address in self.host_addresses:
            ipaddress.ip_address(address)  # ValueError for a host name or a typo
        for network in self.remote_networks:
            ipaddress.ip_network(network, strict=False)
        if self.max_offer_bytes < 1024:
            raise ValueError("max_offer_bytes must be at least 1024")
        if self.max_probes < 0:
            raise ValueError("max_probes must not be negative")
        if not self.max_probe_seconds > 0:
            raise ValueError("max_probe_seconds must be positive")
        if not self.silence_timeout_seconds > 0:
            raise ValueError("silence_timeout_seconds must be positive")

    def codecs_for(self, kind: str) -> tuple[str, ...]:
        """The preferred codec names for a media kind ("audio" or "video")."""
        return self.video_codecs if kind == "video" else self.audio_codecs
