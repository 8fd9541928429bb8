"""Fuzzing the relay's door: whatever a page sends as an offer, the relay answers or refuses it
with a known OfferError code; nothing else ever escapes, and nothing is left open.

Offers are the browser fixtures (tests/relay/offers) damaged the ways a broken or hostile page
would: truncated, lines dropped, duplicated or shuffled, values replaced by garbage, ICE or DTLS
lines removed, codecs renamed, mids duplicated, sizes blown up, plus text that is no SDP at all.
"""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.errors import OfferError
from relay.relay import Relay
from tests.relay.conftest import LOOPBACK_CONFIG

OFFERS = [p.read_text() for p in sorted((Path(__file__).parent / "offers").glob("*.sdp"))]
CODES = {
    "not_sdp", "too_large", "invalid_sdp", "no_media", "unsupported_media", "too_many_media",
    "missing_ice", "missing_dtls", "no_common_codec", "too_many_candidates", "no_candidates",
}  # fmt: skip

GARBAGE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "NaN", "\x00", "ÿ" * 9, "a=b=c"]),
)


@st.composite
def damaged_offer(draw: st.DrawFn) -> object:
    lines = draw(st.sampled_from(OFFERS)).split("\r\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(
                ["truncate", "drop", "duplicate", "swap", "garble", "rename", "strip", "mid"]
            )
        )
        if action == "truncate":
            lines = lines[:i]
        elif action == "drop":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "garble":  # keep the "x=" prefix, replace a field
            head, _, rest = lines[i].partition(" ")
            fields = rest.split(" ") if rest else [""]
            fields[draw(st.integers(0, len(fields) - 1))] = draw(GARBAGE)
            lines[i] = " ".join([head, *fields])
        elif action == "rename":  # an unknown codec
            lines = [line.replace("VP8/", "XV9/").replace("opus/", "sopu/") for line in lines]
        elif action == "strip":  # no ICE credentials, or no fingerprint
            prefix = draw(st.sampled_from(["a=ice-ufrag", "a=ice-pwd", "a=fingerprint", "a=mid"]))
            lines = [line for line in lines if not line.startswith(prefix)]
        elif action == "mid":
            lines = [line.replace("a=mid:1", "a=mid:0") for line in lines]
    return "\r\n".join(lines)


OFFER_INPUT = st.one_of(
    damaged_offer(),
    damaged_offer(),
    damaged_offer(),
    st.text(max_size=300),
    st.builds(lambda s: "v=0\r\n" + s, st.text(max_size=300)),
    st.builds(lambda n: OFFERS[0] + "a=x:" + "y" * n + "\r\n", st.integers(60_000, 70_000)),
    st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=3)),  # not even text
)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(offer=OFFER_INPUT)
async def test_any_offer_is_answered_or_refused_with_a_code(offer: object) -> None:
    relay = Relay(LOOPBACK_CONFIG)
    try:
        answer = await relay.answer("fuzz", offer)  # type: ignore[arg-type]
    except OfferError as exc:
        assert exc.code in CODES, exc.code
    else:
        assert answer.startswith("v=0")
    finally:
        await relay.close()
    assert relay.counters.peer_connections_open == 0
