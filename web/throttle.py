"""Counting attempts per key (an account, an address) to slow down guessing and flooding (pure)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from web.text import _, ngettext

Clock = Callable[[], float]


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    lockouts: int = 0


class Lockout:
    """After `limit` failures within `window` seconds a key is locked; each further lockout of
    the same key lasts twice as long (back-off). A success clears the key."""

    def __init__(
        self, limit: int, window: float, lockout: float, clock: Clock = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.lockout = lockout
        self.clock = clock
        # Keys name people (a CPF, an e-mail): only a keyed digest of each is kept in memory.
        self._salt = secrets.token_bytes(16)
        self._records: dict[bytes, _Record] = {}

    def _digest(self, key: str) -> bytes:
        return hashlib.blake2b(key.encode(), key=self._salt, digest_size=16).digest()

    def locked_for(self, *keys: str) -> float:
        """Seconds until every one of these keys may try again (0: now)."""
        now = self.clock()
        records = (self._records.get(self._digest(k)) for k in keys)
        return max((max(0.0, r.locked_until - now) for r in records if r), default=0.0)

    def failure(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            record = self._records.setdefault(self._digest(key), _Record())
            record.failures.append(now)
            while record.failures and record.failures[0] <= now - self.window:
                record.failures.popleft()
            if len(record.failures) >= self.limit:
                record.locked_until = now + self.lockout * 2**record.lockouts
                record.lockouts += 1
                record.failures.clear()
        self._forget_old(now)

    def success(self, *keys: str) -> None:
        for key in keys:
            self._records.pop(self._digest(key), None)

    def forgive(self, key: str) -> None:
        """Take back the latest failure of key (it was counted before the check succeeded)."""
        record = self._records.get(self._digest(key))
        if record is not None and record.failures:
            record.failures.pop()

    def _forget_old(self, now: float) -> None:
        if len(self._records) < 10_000:
            return
        for key, record in list(self._records.items()):
            if record.locked_until < now and not record.failures:
                del self._records[key]


class RateLimit:
    """At most `limit` events per key within `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one event for key; False (and not counted) if over the limit."""
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) >= 10_000:
            for k, v in list(self._events.items()):
                if not v or v[-1] <= now - self.window:
                    del self._events[k]
        return True


@dataclass
class Guards:
    """The application's limits: sign-in lockouts, registrations, chat.

    Sign-in failures count per account (a CPF, an e-mail) and, with a higher limit, per client
    address (many people may share one: a clinic, a family). A success clears the account's
    count, not the address's (else one's own account would reset a guesser's count)."""

    accounts: Lockout
    addresses: Lockout
    registrations: RateLimit
    chat: RateLimit

    def sign_in_attempt(self, account: str, address: str) -> float:
        """Before a password or birth date is checked: the seconds to wait (locked), or 0 and
        the attempt is counted as a failure at once, so that attempts checked in parallel (a
        password check takes a while off the event loop) all count; signed_in() forgives it."""
        wait = max(self.accounts.locked_for(account), self.addresses.locked_for(address))
        if not wait:
            self.accounts.failure(account)
            self.addresses.failure(address)
        return wait

    def signed_in(self, account: str, address: str) -> None:
        self.accounts.success(account)
        self.addresses.forgive(address)


TOO_MANY_REGISTRATIONS = _("Muitos cadastros feitos desta rede agora. Tente de novo em 1 minuto.")


def wait_text(seconds: float) -> str:
    """'Tente de novo em N minutos' in words, rounded up."""
    minutes = max(1, int(-(-seconds // 60)))
    return ngettext(
        "Muitas tentativas. Tente de novo em %(num)d minuto.",
        "Muitas tentativas. Tente de novo em %(num)d minutos.",
        minutes,
    )
