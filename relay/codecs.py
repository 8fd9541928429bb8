"""Which codecs the relay forwards: the preferences set on every transceiver; offer checks."""

from collections.abc import Iterable, Sequence

from aiortc import RTCRtpCodecCapability, RTCRtpCodecParameters, RTCRtpSender

from relay.aiortc_hooks import codec_compatible


def subtype(mime_type: str) -> str:
    """ "video/VP8" -> "vp8"."""
    return mime_type.split("/", 1)[-1].lower()


def is_rtx(codec: RTCRtpCodecCapability | RTCRtpCodecParameters) -> bool:
    """Whether a codec entry is the retransmission format rather than a media codec."""
    return subtype(codec.mimeType) == "rtx"


def preferred_codecs(kind: str, names: Sequence[str]) -> list[RTCRtpCodecCapability]:
    """aiortc's capabilities for kind restricted to names, in that order (plus RTX for video).

    Set on both legs' transceivers, so both legs pick the same codec when browsers allow it.
    """
    capabilities = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [
        capability
        for name in names
        for capability in capabilities
        if subtype(capability.mimeType) == name.lower() and not is_rtx(capability)
    ]
    if chosen and kind == "video":
        chosen += [capability for capability in capabilities if is_rtx(capability)]
    return chosen


def forwardable(
    kind: str, offered: Iterable[RTCRtpCodecParameters], names: Sequence[str]
) -> list[RTCRtpCodecParameters]:
    """The offered codecs of kind that the relay can negotiate and forward."""
    preferred = [
        RTCRtpCodecParameters(
            mimeType=capability.mimeType,
            clockRate=capability.clockRate,
            channels=capability.channels,
            parameters=dict(capability.parameters),
        )
        for capability in preferred_codecs(kind, names)
        if not is_rtx(capability)
    ]
    return [
        codec
        for codec in offered
        if not is_rtx(codec) and any(codec_compatible(ours, codec) for ours in preferred)
    ]
