"""Offers the relay must refuse, each with its own code, leaving no connection behind."""

import re
from collections.abc import Callable

import pytest

from relay.errors import OfferError
from relay.relay import Relay
from relay.sdp import MAX_CANDIDATES
from tests.relay.clients import Client

pytestmark = pytest.mark.asyncio


async def refused(relay: Relay, offer: str) -> str:
    """The code of the OfferError the relay raises for offer (failing if it answers)."""
    with pytest.raises(OfferError) as caught:
        await relay.answer("p", offer)
    assert caught.value.message
    assert relay.counters.peer_connections_open == 0
    assert relay.connection_state("p") is None
    return caught.value.code


async def test_bad_offers_are_refused_with_a_code(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    good = await new_client().offer()
    data_only = await new_client(data_only=True).offer()
    two_videos = new_client()
    two_videos.pc.addTransceiver("video")

    assert await refused(relay, "") == "not_sdp"
    assert await refused(relay, "hello, relay") == "not_sdp"
    assert await refused(relay, "x" * 100 * 1024) == "too_large"
    assert await refused(relay, good + "a=x:" + "y" * relay.config.max_offer_bytes) == "too_large"
    assert await refused(relay, re.sub(r"m=audio \d+", "m=audio x", good)) == "invalid_sdp"
    assert await refused(relay, good.replace("a=setup:actpass", "a=setup:bogus")) == "invalid_sdp"
    assert await refused(relay, good.replace("BUNDLE 0 1", "BUNDLE 7 1")) == "invalid_sdp"
    assert await refused(relay, data_only) == "no_media"
    with_data = new_client()
    with_data.pc.createDataChannel("chat")
    assert await refused(relay, await with_data.offer()) == "unsupported_media"
    candidate = next(line for line in good.split("\r\n") if line.startswith("a=candidate:"))
    many = good.replace(candidate, "\r\n".join([candidate] * (MAX_CANDIDATES + 1)))
    assert await refused(relay, many) == "too_many_candidates"
    assert await refused(relay, re.sub(r"m=(audio|video) \d+", r"m=\1 0", good)) == "no_media"
    assert await refused(relay, await two_videos.offer()) == "too_many_media"
    assert await refused(relay, re.sub(r"a=ice-ufrag:.*\r\n", "", good)) == "missing_ice"
    assert await refused(relay, re.sub(r"a=ice-pwd:.*\r\n", "", good)) == "missing_ice"
    assert await refused(relay, re.sub(r"a=fingerprint:.*\r\n", "", good)) == "missing_dtls"
    unknown_video = re.sub(r"(a=rtpmap:\d+) (VP8|H264)/90000", r"\1 AV1X/90000", good)
    assert await refused(relay, unknown_video) == "no_common_codec"
    only_g722 = re.sub(r"a=rtpmap:\d+ (opus|PCMU|PCMA)/.*\r\n", "", good)
    assert await refused(relay, only_g722) == "no_common_codec"


async def test_offer_aiortc_rejects_becomes_invalid_sdp(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    good = await new_client().offer()
    # passes the relay's own inspection; aiortc's setRemoteDescription/createAnswer fails on it
    assert await refused(relay, good.replace("a=mid:1", "a=mid:0")) == "invalid_sdp"


async def test_candidates_outside_the_allowed_networks_are_dropped(
    relay: Relay, new_client: Callable[..., Client]
) -> None:
    good = await new_client().offer()
    elsewhere = good.replace(" 127.0.0.1 ", " 192.0.2.7 ")  # TEST-NET-1: never contacted
    mdns = good.replace(" 127.0.0.1 ", " 0f6c3c53-3b2b-4b0e-9d51-0d4a5b1c2e3f.local ")
    assert await refused(relay, elsewhere) == "no_candidates"
    assert await refused(relay, mdns) == "no_candidates"
