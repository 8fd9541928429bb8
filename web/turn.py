"""Time-limited TURN credentials: the "TURN REST API" scheme coturn checks with use-auth-secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class TurnCredentials:
    username: str
    credential: str


def rest_credentials(secret: bytes, expires_at: int, user: str) -> TurnCredentials:
    """username = "<expiry unix time>:<user>", credential = base64(HMAC-SHA1(secret, username)).

    coturn (use-auth-secret, static-auth-secret) recomputes the credential from the username and
    refuses it once the expiry time has passed. `user` must be opaque: coturn logs it.
    """
    if ":" in user:
        raise ValueError("the user part of a TURN username must not contain ':'")
    username = f"{expires_at}:{user}"
    digest = hmac.new(secret, username.encode(), hashlib.sha1).digest()
    return TurnCredentials(username, base64.b64encode(digest).decode())


@dataclass(frozen=True)
class TurnRest:
    """The TURN servers handed to browsers, each page with credentials of its own."""

    urls: tuple[str, ...]
    secret: bytes
    ttl_seconds: int

    def ice_server(self, now: float, user: str | None = None) -> dict[str, object]:
        """One RTCIceServer entry valid for ttl_seconds from `now`; a random user id if none."""
        user = user if user is not None else secrets.token_hex(8)
        creds = rest_credentials(self.secret, int(now) + self.ttl_seconds, user)
        return {"urls": list(self.urls), "username": creds.username, "credential": creds.credential}
