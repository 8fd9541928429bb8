"""Inspect a browser's offer before aiortc sees it, and fix up the answer aiortc makes.

Every offer the relay answers passes these rules, in this order; each failure is an OfferError
whose code the web layer turns into words for the page (the patient keeps their queue place):

- not_sdp / too_large: text, at most config.max_offer_bytes, every line "x=...". Anything else
  is not an offer and must not reach aiortc's parser.
- invalid_sdp: aiortc's parser accepts it and every BUNDLE group names existing mids (aiortc
  would otherwise fail half-way through applying it, leaving a half-built connection).
- no_media: at least one audio or video section with a port (a call needs media).
- unsupported_media: no other active section (data channels, application): the relay only
  forwards audio and video, and an SCTP association is work for nothing.
- too_many_media: at most one audio and one video section; a call has one of each at most.
- missing_ice / missing_dtls: each active section carries ICE credentials and a DTLS
  fingerprint (no ICE-lite or plain-RTP peers).
- no_common_codec: each active section offers a codec the relay forwards (config
  video_codecs / audio_codecs). Offer.codecs keeps them, and the answer carries exactly one per
  kind, so the browser can only send what the relay negotiated with the other side.
- too_many_candidates: at most MAX_CANDIDATES candidates in any one section (a browser without
  max-bundle gathers a full set per section; a laptop with Wi-Fi, IPv6, VPN and TURN has ~15).
- no_candidates: at least one candidate left after dropping those outside
  config.remote_networks and mDNS names (resolving them would send traffic anywhere).

Sections offered with port 0 (a stopped transceiver) are allowed and answered with port 0, out
of the BUNDLE group (reject_sections), which aiortc does not do on its own.
"""

import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiortc import RTCRtpCodecParameters
from aiortc.sdp import SessionDescription

from relay.codecs import forwardable, is_rtx, subtype
from relay.config import RelayConfig
from relay.errors import OfferError

# A browser gathers a handful of candidates; more only makes the relay send connectivity
# checks to many addresses chosen by whoever wrote the offer.
MAX_CANDIDATES = 32
MEDIA_KINDS = ("audio", "video")

_SDP_LINE = re.compile(r"[a-z]=")
_CANDIDATE_PREFIX = "a=candidate:"

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Offer:
    """An offer that passed inspection.

    sdp: the offer text to give aiortc (remote candidates outside the allowed networks removed).
    kinds: the kind of each audio/video m-line, in order (one transceiver is prepared for each).
    codecs[kind]: the codecs offered for kind that the relay can forward ("vp8", "h264", …), in
        the offer's order, each once.
    rejected: positions (among all m-lines) of sections the browser offered with port 0.
    """

    sdp: str
    kinds: tuple[str, ...]
    codecs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rejected: frozenset[int] = frozenset()


def inspect_offer(text: object, config: RelayConfig) -> Offer:
    """Check that the relay can answer this offer; raise OfferError with a code if not."""
    _check_is_sdp(text, config.max_offer_bytes)
    assert isinstance(text, str)
    filtered = filter_candidates(text, config.remote_networks)
    try:
        description = SessionDescription.parse(filtered)
    except Exception as exc:  # aiortc's parser fails with assert, KeyError, ValueError...
        raise OfferError("invalid_sdp", "The offer is not valid SDP.") from exc

    mids = {m.rtp.muxId for m in description.media}
    for group in description.group:
        if not set(group.items) <= mids:  # aiortc would fail half-way through applying it
            raise OfferError("invalid_sdp", f"The offer's {group.semantic} group is inconsistent.")
    media = [m for m in description.media if m.kind in MEDIA_KINDS]
    active = [m for m in media if m.port != 0]
    codecs: dict[str, tuple[str, ...]] = {}
    if not active:
        raise OfferError("no_media", "The offer has no audio or video.")
    if any(m.kind not in MEDIA_KINDS and m.port != 0 for m in description.media):
        raise OfferError("unsupported_media", "The offer has a section other than audio and video.")
    for kind in MEDIA_KINDS:
        if sum(1 for m in media if m.kind == kind) > 1:
            raise OfferError("too_many_media", f"The offer has more than one {kind} stream.")
    for m in active:
        if m.ice is None or not m.ice.usernameFragment or not m.ice.password:
            raise OfferError("missing_ice", "The offer has no ICE username or password.")
        if m.dtls is None or not m.dtls.fingerprints:
            raise OfferError("missing_dtls", "The offer has no DTLS fingerprint or setup role.")
        usable = forwardable(m.kind, m.rtp.codecs, config.codecs_for(m.kind))
        if not usable:
            raise OfferError(
                "no_common_codec", f"The browser offers no {m.kind} codec the relay can forward."
            )
        codecs[m.kind] = tuple(dict.fromkeys(subtype(c.mimeType) for c in usable))
    if max(len(m.ice_candidates) for m in description.media) > MAX_CANDIDATES:
        raise OfferError(
            "too_many_candidates", f"A section of the offer has over {MAX_CANDIDATES} candidates."
        )
    if not any(m.ice_candidates for m in description.media):
        raise OfferError(
            "no_candidates", "The offer has no network address the relay is allowed to reach."
        )
    rejected = frozenset(i for i, m in enumerate(description.media) if m.port == 0)
    return Offer(sdp=filtered, kinds=tuple(m.kind for m in media), codecs=codecs, rejected=rejected)


def reject_sections(answer: str, rejected: frozenset[int]) -> str:
    """The answer with the offer's rejected sections rejected too (port 0, out of BUNDLE).

    An answer must reject what the offer rejected (RFC 3264 section 6, JSEP 5.3.1); aiortc
    answers such a section as if it were active, which browsers refuse.
    """
    if not rejected:
        return answer
    lines = answer.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("m=")]
    mids: list[str] = []
    for index in sorted(rejected):
        if index >= len(starts):
            continue
        start = starts[index]
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        kind, _port, rest = lines[start].split(" ", 2)
        lines[start] = f"{kind} 0 {rest}"
        mids += [line[len("a=mid:") :] for line in lines[start:end] if line.startswith("a=mid:")]
    for i, line in enumerate(lines):
        if line.startswith("a=group:BUNDLE"):
            lines[i] = " ".join(item for item in line.split(" ") if item not in mids)
    return "\r\n".join(lines) + "\r\n"


def answer_codecs(text: str) -> dict[str, RTCRtpCodecParameters]:
    """The codec the relay sends for each kind in its own answer (its first media codec)."""
    chosen: dict[str, RTCRtpCodecParameters] = {}
    for m in SessionDescription.parse(text).media:
        codecs = [c for c in m.rtp.codecs if not is_rtx(c)]
        if m.kind in MEDIA_KINDS and m.port != 0 and codecs:
            chosen[m.kind] = codecs[0]
    return chosen


def _check_is_sdp(text: object, max_bytes: int) -> None:
    """Raise OfferError unless text is a string of SDP lines of acceptable size."""
    if not isinstance(text, str) or not text.strip():
        raise OfferError("not_sdp", "The offer is empty or is not text.")
    if len(text) > max_bytes or len(text.encode("utf-8", "replace")) > max_bytes:
        raise OfferError("too_large", f"The offer is larger than {max_bytes} bytes.")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if lines[0].strip() != "v=0" or not all(_SDP_LINE.match(line) for line in lines):
        raise OfferError("not_sdp", "The offer is not SDP.")


def filter_candidates(text: str, networks: Sequence[str]) -> str:
    """Drop a=candidate lines whose address is outside networks, and mDNS (.local) ones.

    With no networks every candidate is kept. Line endings are normalised to CRLF.
    """
    if not networks:
        return text
    allowed = [ipaddress.ip_network(n, strict=False) for n in networks]
    kept = []
    dropped = 0
    for line in text.splitlines():
        if line.startswith(_CANDIDATE_PREFIX) and not _candidate_allowed(line, allowed):
            dropped += 1
            continue
        kept.append(line)
    if dropped:
        logger.debug("dropped %d remote candidates outside the allowed networks", dropped)
    return "\r\n".join(kept) + "\r\n"


def _candidate_allowed(line: str, allowed: Sequence[Network]) -> bool:
    """Whether a candidate line's address is a literal IP inside one of the allowed networks."""
    fields = line[len(_CANDIDATE_PREFIX) :].split()
    if len(fields) < 6:
        return False
    try:
        address = ipaddress.ip_address(fields[4])
    except ValueError:  # a hostname, mDNS "<uuid>.local" included: resolving it sends traffic
        return False
    return any(address in network for network in allowed)
