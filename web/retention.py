"""The retention task: erases patients inactive for privacy.retention_days (docs/privacy.md).

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
    days = app[CONFIG].privacy.retention_days
    task = asyncio.create_task(_every_hour(app, days)) if days > 0 else None
    yield
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _every_hour(app: web.Application, days: int) -> None:
    while True:
        store, now = app[STORE], time.time()
        try:
            # the scan of the whole history runs off the event loop; each patient found is
            # checked again, on the loop, just before their erasure
            found = await store.read(partial(privacy.inactive_candidates, days=days, now=now))
            erased = privacy.erase_inactive(store, days, now, found)
        except sqlite3.Error:  # e.g. the database busy for too long: try again next time
            log.exception("retention: erasing inactive patients failed")
        else:
            for patient_id in erased:
                await app[HUB].close(patient_key(patient_id))
            if erased:
                log.info("retention: erased %d patients inactive for %d days", len(erased), days)
        await asyncio.sleep(CHECK_SECONDS)
