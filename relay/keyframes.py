"""KeyframeRequester: asks one browser's video sender for a keyframe, at most once per interval."""

import asyncio
import logging
import time
from collections.abc import Callable

from aiortc import RTCRtpReceiver

from relay.aiortc_hooks import send_pli

MIN_INTERVAL = 0.5  # seconds between two picture-loss requests to the same receiver

logger = logging.getLogger(__name__)


class KeyframeRequester:
    """Sends PLIs through one relay receiver to the browser feeding it.

    Requests closer together than min_interval are coalesced into one sent when the interval
    has passed, so a request is never lost (a receiver that just joined must get its keyframe).
    """

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        on_sent: Callable[[], None],
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        self._receiver = receiver
        self._on_sent = on_sent
        self._min_interval = min_interval
        self._last_sent = -min_interval
        self._deferred: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def request(self) -> None:
        """Ask for a keyframe now, or as soon as the rate limit allows."""
        if self._closed or self._deferred is not None:
            return
        wait = self._last_sent + self._min_interval - time.monotonic()
        if wait > 0:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._send_deferred)
            return
        self._send()

    def _send_deferred(self) -> None:
        self._deferred = None
        self._send()

    def _send(self) -> None:
        if self._closed:
            return
        ssrcs = [source.source for source in self._receiver.getSynchronizationSources()]
        if not ssrcs:  # nothing received yet: the first frame a browser sends is a keyframe
            return
        self._last_sent = time.monotonic()
        for ssrc in ssrcs:
            task = asyncio.ensure_future(send_pli(self._receiver, ssrc))
            self._tasks.add(task)
            task.add_done_callback(self._finished)
        self._on_sent()

    def _finished(self, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("keyframe request failed: %r", task.exception())

    def close(self) -> None:
        """Send nothing more."""
        self._closed = True
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
