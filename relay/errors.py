"""OfferError: why the relay cannot answer an offer, as a machine code plus an English sentence."""


class OfferError(ValueError):
    """An offer the relay cannot serve.

    code is stable and machine-readable (the web layer translates by code):
    not_sdp, too_large, invalid_sdp, no_media, too_many_media, missing_ice, missing_dtls,
    no_common_codec, no_candidates; superseded (a newer offer or close_peer for the same
    peer id won while this offer was being applied); busy (config.max_probes device tests
    are already running).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"OfferError({self.code!r}, {self.message!r})"
