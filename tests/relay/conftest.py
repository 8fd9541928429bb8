"""Fixtures: a relay on 127.0.0.1, and a check that no decoder thread outlives a test."""

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from relay.config import RelayConfig
from relay.relay import Relay
from tests.relay.clients import Client

LOOPBACK_CONFIG = RelayConfig(host_addresses=("127.0.0.1",), remote_networks=("127.0.0.0/8",))


def decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith("-decoder")]


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    relay = Relay(LOOPBACK_CONFIG)
    yield relay
    await relay.close()
    assert relay.counters.peer_connections_open == 0


@pytest.fixture(autouse=True)
def no_leaked_decoder_threads() -> Iterator[None]:
    yield
    assert decoder_threads() == [], "a receiver's decoder thread outlived its test"


@pytest.fixture
async def new_client() -> AsyncIterator[Callable[..., Client]]:
    """Make test browsers; all are closed at the end of the test."""
    made: list[Client] = []

    def make(*args: Any, **kwargs: Any) -> Client:
        client = Client(*args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
