"""The retention task: erases patients inactive for privacy.retention_days (docs/privacy.md),
and empties the write-ahead log after an erasure whose log could not be emptied at the time.

It runs in the app's cleanup_ctx: once at start-up, then every hour. `python -m web
erase-inactive` does the same once, by hand.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from web import privacy
from web.hub import patient_key
from web.keys import CONFIG, HUB, STORE

log = logging.getLogger(__name__)

CHECK_SECONDS = 3600


async def retention(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_every_hour(app, app[CONFIG].privacy.retention_days))
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _every_hour(app: web.Application, days: int) -> None:
    """Erase the inactive (when retention_days is on), and empty the write-ahead log of an
    erasure whose log could not be emptied at the time."""
    store = app[STORE]
    while True:
        if days > 0:
            await _erase_inactive(app, days)
        await privacy.wipe_free_space(store)
        await asyncio.sleep(CHECK_SECONDS)


async def _erase_inactive(app: web.Application, days: int) -> None:
    store, now = app[STORE], time.time()
    try:
        # the scan of the whole history runs off the event loop; each patient found is
        # checked again, on the loop, just before their erasure
        found = await store.read(partial(privacy.inactive_candidates, days=days, now=now))
        erased = privacy.erase_inactive(store, days, now, found)
    except sqlite3.Error:  # e.g. the database busy for too long: try again next time
        log.exception("retention: erasing inactive patients failed")
        return
    for patient_id in erased:
        await app[HUB].close(patient_key(patient_id))
    if erased:
        log.info("retention: erased %d patients inactive for %d days", len(erased), days)
