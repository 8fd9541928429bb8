"""Typed application state keys (one place, so every module names them alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from relay.relay import Relay
    from web.config import Config
    from web.device_tests import DeviceTests
    from web.hub import Hub
    from web.metrics import AtendeCollector
    from web.monitor import Monitor
    from web.store import Store
    from web.throttle import Guards
    from web.turn import TurnRest
    from web.visits import Visits

CONFIG: web.AppKey[Config] = web.AppKey("config")
STORE: web.AppKey[Store] = web.AppKey("store")
RELAY: web.AppKey[Relay] = web.AppKey("relay")
HUB: web.AppKey[Hub] = web.AppKey("hub")
VISITS: web.AppKey[Visits] = web.AppKey("visits")
GUARDS: web.AppKey[Guards] = web.AppKey("guards")
MONITOR: web.AppKey[Monitor] = web.AppKey("monitor")
DEVICE_TESTS: web.AppKey[DeviceTests] = web.AppKey("device_tests")
METRICS: web.AppKey[AtendeCollector] = web.AppKey("metrics")
# TURN servers with per-page credentials; None when ice.turn_urls is empty
TURN: web.AppKey[TurnRest | None] = web.AppKey("turn")
