"""The media plane: one aiortc connection per browser, media forwarded encoded between pairs."""

from relay.config import IceServer, RelayConfig
from relay.counters import RelayCounters
from relay.errors import OfferError
from relay.probe import ProbeReport
from relay.relay import Relay
from relay.stats import PeerStats

__all__ = [
    "IceServer",
    "OfferError",
    "PeerStats",
    "ProbeReport",
    "Relay",
    "RelayConfig",
    "RelayCounters",
]
