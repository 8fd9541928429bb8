"""Running a patient's device test: live measurements pushed to the page, then the verdicts."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

from relay.probe import ProbeReport
from relay.relay import Relay
from web import device_check
from web.hub import Hub, patient_key
from web.store import Store

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5


def probe_id(patient_id: int) -> str:
    return f"probe-{patient_id}"


class DeviceTests:
    """One test per patient at a time; a new offer restarts it."""

    def __init__(self, store: Store, relay: Relay, hub: Hub, seconds: float) -> None:
        self.store = store
        self.relay = relay
        self.hub = hub
        self.seconds = seconds
        self._running: dict[int, asyncio.Task[None]] = {}

    async def start(self, patient_id: int, offer_sdp: str) -> str:
        """Answer the test's offer (relay OfferError on a bad one or when too many run)."""
        self._cancel(patient_id)
        answer = await self.relay.answer_probe(probe_id(patient_id), offer_sdp)
        log.info("patient %d: device test started", patient_id)
        task = asyncio.create_task(self._run(patient_id))
        self._running[patient_id] = task
        task.add_done_callback(lambda t: self._done(patient_id, t))
        return answer

    async def _run(self, patient_id: int) -> None:
        key = patient_key(patient_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        while loop.time() < deadline:
            await asyncio.sleep(PROGRESS_INTERVAL)
            report = self.relay.probe_report(probe_id(patient_id))
            if report is not None:
                await self.hub.send(key, {"type": "probe_progress"} | _measures(report))
        final = await self.relay.close_probe(probe_id(patient_id))
        if final is None:
            return
        found = device_check.verdicts(final)
        summary = device_check.summary(found, None)
        verdicts = [dataclasses.asdict(v) for v in found]
        self.store.record_device_test(patient_id, json.dumps(verdicts), summary)
        log.info("patient %d: device test done (%s)", patient_id, summary or "all ok")
        await self.hub.send(
            key,
            {"type": "probe_result", "verdicts": verdicts, "summary": summary} | _measures(final),
        )

    def _done(self, patient_id: int, task: asyncio.Task[None]) -> None:
        if self._running.get(patient_id) is task:
            del self._running[patient_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("device test failed", exc_info=task.exception())

    def _cancel(self, patient_id: int) -> None:
        task = self._running.pop(patient_id, None)
        if task is not None:
            task.cancel()

    async def stop(self, patient_id: int) -> None:
        """The page went away: end its test without a verdict."""
        self._cancel(patient_id)
        await self.relay.close_probe(probe_id(patient_id))

    def speaker_checked(self, patient_id: int, heard: bool) -> None:
        """Record the speaker check on the latest test (its summary gains "não ouviu o som")."""
        test = self.store.latest_device_test(patient_id, 0)
        if test is None:
            return
        found = [
            device_check.Verdict(
                v["item"], device_check.Level(v["level"]), v["text"], v.get("tag", "")
            )
            for v in json.loads(test["verdicts"])
        ]
        self.store.set_speaker_heard(patient_id, heard, device_check.summary(found, heard))

    async def close(self) -> None:
        for patient_id in list(self._running):
            await self.stop(patient_id)


def _measures(report: ProbeReport) -> dict[str, Any]:
    return {
        "seconds": round(report.seconds, 1),
        "video": dataclasses.asdict(report.video) if report.video else None,
        "audio": dataclasses.asdict(report.audio) if report.audio else None,
        "network": dataclasses.asdict(report.network),
    }
