"""Candidate filtering and configuration checks (pure functions)."""

import pytest

from relay.config import RelayConfig
from relay.sdp import filter_candidates

OFFER = (
    "v=0\r\n"
    "m=audio 5000 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
    "a=candidate:2 1 udp 2130706431 10.1.2.3 5000 typ host\r\n"
    "a=candidate:3 1 udp 2130706431 2001:db8::1 5000 typ host\r\n"
    "a=candidate:4 1 udp 2130706431 0f6c3c53-3b2b-4b0e-9d51-0d4a5b1c2e3f.local 5000 typ host\r\n"
    "a=candidate:5 1 udp 1694498815 203.0.113.9 6000 typ srflx raddr 10.1.2.3 rport 5000\r\n"
    "a=end-of-candidates\r\n"
)


def addresses(sdp: str) -> list[str]:
    return [line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")]


def test_no_networks_keeps_everything() -> None:
    assert filter_candidates(OFFER, ()) == OFFER


def test_only_candidates_inside_the_networks_are_kept() -> None:
    assert addresses(filter_candidates(OFFER, ("127.0.0.0/8",))) == ["127.0.0.1"]
    kept = addresses(filter_candidates(OFFER, ("10.0.0.0/8", "2001:db8::/32", "203.0.113.0/24")))
    assert kept == ["10.1.2.3", "2001:db8::1", "203.0.113.9"]  # never the .local one
    assert "a=end-of-candidates" in filter_candidates(OFFER, ("127.0.0.0/8",))


def test_config_rejects_bad_addresses() -> None:
    with pytest.raises(ValueError):
        RelayConfig(host_addresses=("localhost",))
    with pytest.raises(ValueError):
        RelayConfig(remote_networks=("10.0.0.0/33",))
    RelayConfig(host_addresses=("127.0.0.1", "::1"), remote_networks=("10.0.0.0/8",))
