"""The media plane: one aiortc connection per browser, media forwarded encoded between pairs."""

from relay.config import IceServer, RelayConfig
from relay.counters import RelayCounters
from relay.errors import OfferError
from relay.relay import Relay

__all__ = ["IceServer", "OfferError", "Relay", "RelayConfig", "RelayCounters"]
