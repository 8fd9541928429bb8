"""SilenceWatch: a browser the relay hears nothing from for a while is taken as gone.

A browser in a call sends many packets a second (RTP, RTCP), and even with nothing to send it
sends an ICE consent check (a STUN request) every few seconds (RFC 7675: about every 5 s; Chrome
and Firefox do). A tab that was killed or a device whose network went away sends nothing at all,
and says nothing about it. aioice (0.13) would notice only through its own consent checks: one
every 4-6 s, each given up after 0.5 s, the connection closed after 6 failures in a row, so
27-39 s after the browser went silent, and only once ICE had connected. Counting what arrives
(every datagram: STUN requests, DTLS, SRTP, SRTCP) tells sooner, and from the answer on, before
ICE connects too.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiortc import RTCIceTransport, RTCPeerConnection

from relay.aiortc_hooks import count_datagrams_received

MAX_CHECK_INTERVAL = 1.0  # seconds between two looks at the counts

logger = logging.getLogger(__name__)


def check_interval(timeout: float) -> float:
    """Seconds between two looks at the counts for a given silence timeout."""
    return min(MAX_CHECK_INTERVAL, timeout / 4)


def detection_bound(timeout: float) -> float:
    """The longest time from the browser's last datagram to on_silent being called: the silence
    is seen from the first look after that datagram, and lasts whole intervals from there."""
    return timeout + 2 * check_interval(timeout)


def ice_transports(pc: RTCPeerConnection) -> list[RTCIceTransport]:
    """The distinct ICE transports of pc's transceivers (one when bundled)."""
    found: dict[int, RTCIceTransport] = {}
    for transceiver in pc.getTransceivers():
        transport = transceiver.receiver.transport.transport
        found.setdefault(id(transport), transport)
    return list(found.values())


class SilenceWatch:
    """Calls on_silent(seconds) once when nothing arrived on any of pc's ICE transports for
    timeout seconds (counted from the watch's start). Start it once the answer is set."""

    def __init__(
        self, pc: RTCPeerConnection, timeout: float, on_silent: Callable[[float], None]
    ) -> None:
        self._counts = [count_datagrams_received(t) for t in ice_transports(pc)]
        self._timeout = timeout
        self._on_silent = on_silent
        self._task = asyncio.ensure_future(self._run())

    def received(self) -> int:
        """Datagrams received so far on every transport."""
        return sum(count() for count in self._counts)

    async def close(self) -> None:
        """Stop watching (on_silent is not called after this)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        interval = check_interval(self._timeout)
        last_count, last_heard = self.received(), time.monotonic()
        while True:
            await asyncio.sleep(interval)
            count, now = self.received(), time.monotonic()
            if count != last_count:
                last_count, last_heard = count, now
            elif now - last_heard >= self._timeout:
                break
        try:
            self._on_silent(now - last_heard)
        except Exception:
            logger.exception("silence callback failed")
