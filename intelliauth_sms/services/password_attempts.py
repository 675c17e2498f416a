"""Password attempts, limited per username and per client IP in the shared cache.

CONTRACT §4: the drop-in sign-in (and, later, the account-recovery re-proof) is throttled
per username and per IP. While a limit holds even the right password is refused, and the
answer is the same whether or not the account exists. The limits are the settings
``SIGN_IN_FAILURES_PER_USERNAME`` and ``SIGN_IN_FAILURES_PER_IP`` ("5/15m", "20/15m").

How it counts. Each limit is a rolling window cut into ``SLICES`` slices, one cache counter
per slice, created with ``cache.add`` and bumped with ``cache.incr`` (atomic on Redis and
under LocMem's lock). An attempt *takes its place* before the password is checked:
``check`` bumps the current slice, then reads the window's total; over the limit it gives
the place back and refuses. So concurrent requests from several web processes never get
more password checks through than the limit allows. A wrong password keeps its place
(``record_failure``); a right one gives the IP's place back and clears the username's
count (``record_success``). The window is the current slice and the ``SLICES - 1`` before
it, so it rolls to within one slice: a failure counts for between 29/30 of the window and
the whole of it (14½ to 15 minutes of "5/15m"), and the wait a refusal names is real.

The cache holds no username and no address: keys are named by ``crypto.keyed_hash`` of the
normalised username (NFKC, stripped, case-folded, so ``Alice `` and ``alice`` share a
count) and of the client IP from ``CLIENT_IP_RESOLVER`` (no usable address: one shared
bucket, never unlimited). The cache is the one django-ratelimit uses
(``RATELIMIT_USE_CACHE``), which system check ``intelliauth_sms.E003`` requires to be shared.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import BaseCache, caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils import timezone

from intelliauth_sms.client_ip import client_ip
from intelliauth_sms.conf import app_settings
from intelliauth_sms.crypto import keyed_hash
from intelliauth_sms.exceptions import InvalidCredentials, SignInThrottled
from intelliauth_sms.models import EventType, Outcome
from intelliauth_sms.services import audit
from intelliauth_sms.tenancy import tenant_for

SLICES = 30
_KEY_PREFIX = "intelliauth_sms:password-attempts"
_NO_ADDRESS = "no-address"
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limit:
    """At most ``count`` failed attempts in any ``window`` seconds."""

    count: int
    window: int

    @classmethod
    def parse(cls, rate: str | None, setting: str) -> Limit | None:
        """``"5/15m"`` → ``Limit(5, 900)``; ``None`` → no limit."""
        if rate is None:
            return None
        match = _RATE.match(rate)
        if not match or int(match.group(1)) < 1:
            raise ImproperlyConfigured(
                f'INTELLIAUTH_SMS["{setting}"] must look like "5/15m" (count/period), '
                f"or be None; got {rate!r}."
            )
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * _UNIT_SECONDS[unit])


@dataclass(frozen=True)
class _Counter:
    """The cache counters of one limited thing: a username or an IP."""

    scope: str
    name: str
    limit: Limit

    @property
    def slice_seconds(self) -> int:
        return max(1, math.ceil(self.limit.window / SLICES))

    @property
    def slices(self) -> int:
        """How many slices a failure is counted in (the current one included)."""
        return math.ceil(self.limit.window / self.slice_seconds)

    def key(self, index: int) -> str:
        return f"{_KEY_PREFIX}:{self.scope}:{self.name}:{index}"

    def window_keys(self, now: float) -> list[str]:
        """The keys counted now, oldest first; the last is the current slice."""
        current = int(now // self.slice_seconds)
        return [self.key(index) for index in range(current - self.slices + 1, current + 1)]

    def wait(self, counts: list[int], now: float) -> int:
        """Seconds until enough old slices leave the window for one more attempt."""
        current = int(now // self.slice_seconds)
        first = current - self.slices + 1
        remaining = sum(counts)
        leaves_at = now
        for offset, count in enumerate(counts):
            if remaining < self.limit.count:
                break
            remaining -= count
            # Slice ``first + offset`` stops counting once ``slices`` newer ones began.
            leaves_at = (first + offset + self.slices) * self.slice_seconds
        return max(1, math.ceil(leaves_at - now))


@dataclass(frozen=True)
class Attempt:
    """A password attempt ``check`` let through, holding its place in each count."""

    request: HttpRequest | None
    username: str
    purpose: str
    places: tuple[str, ...]


def _cache() -> BaseCache:
    return caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]


def normalise_username(username: str) -> str:
    """The form of a typed username that is counted: NFKC, stripped, case-folded."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _username_counter(username: str) -> _Counter | None:
    limit = Limit.parse(app_settings.SIGN_IN_FAILURES_PER_USERNAME, "SIGN_IN_FAILURES_PER_USERNAME")
    if limit is None:
        return None
    return _Counter("username", _username_key(username), limit)


def _username_key(username: str) -> str:
    return keyed_hash("password-attempts-username", normalise_username(username))[:40]


def _counters(request: HttpRequest | None, username: str) -> list[_Counter]:
    counters = [_username_counter(username)]
    ip_limit = Limit.parse(app_settings.SIGN_IN_FAILURES_PER_IP, "SIGN_IN_FAILURES_PER_IP")
    if ip_limit is not None:
        ip = client_ip(request) or _NO_ADDRESS
        counters.append(_Counter("ip", keyed_hash("password-attempts-ip", ip)[:40], ip_limit))
    return [counter for counter in counters if counter is not None]


def _take_place(cache: BaseCache, key: str, ttl: int) -> int:
    """Add one to the counter at ``key``, creating it (atomically, either way) if needed;
    the count it reached, which is this attempt's place in the slice."""
    for _attempt in range(3):
        if cache.add(key, 1, ttl):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:
            continue  # it expired between add and incr: add it again
    return int(cache.incr(key))  # still gone three times over: let the error say so


def _give_back(cache: BaseCache, keys: Iterable[str]) -> None:
    for key in keys:
        with suppress(ValueError):  # already expired: nothing left to give back
            cache.decr(key)


def check(request: HttpRequest | None, username: str, *, purpose: str = "") -> Attempt:
    """Let one password attempt for ``username`` from ``request``'s client through, or refuse.

    Call it before checking the password, then ``record_failure`` or ``record_success``
    with what it returns. Raises ``SignInThrottled`` (``rate_limited``, naming the real
    wait, audited as ``password_refused``) while a limit holds, whatever the password.
    ``purpose`` is the audit purpose (``"recovery"`` marks recovery events).
    """
    cache = _cache()
    now = timezone.now().timestamp()
    places: list[str] = []
    waits: dict[str, int] = {}
    for counter in _counters(request, username):
        keys = counter.window_keys(now)
        # The place the atomic increment gave this attempt, not the count read afterwards:
        # a burst of attempts that all incremented before any read would otherwise all see
        # the burst's total and all be refused, the first ones included.
        place = _take_place(cache, keys[-1], (counter.slices + 1) * counter.slice_seconds)
        places.append(keys[-1])
        found: dict[str, Any] = cache.get_many(keys[:-1])
        counts = [int(found.get(key) or 0) for key in keys[:-1]] + [place]
        if sum(counts) > counter.limit.count:
            counts[-1] -= 1  # the wait is for the next attempt, not this refused one
            waits[counter.scope] = counter.wait(counts, now)
    if not waits:
        return Attempt(request, username, purpose, tuple(places))
    _give_back(cache, places)
    refusal = SignInThrottled.for_wait(max(waits.values()))
    _audit(
        request,
        username,
        purpose,
        failure_code=refusal.code,
        detail={"limits": sorted(waits)},
    )
    raise refusal


def record_failure(attempt: Attempt) -> None:
    """The password was wrong: the attempt keeps its place in each count, and is audited."""
    _audit(attempt.request, attempt.username, attempt.purpose, failure_code=InvalidCredentials.code)


def record_success(attempt: Attempt) -> None:
    """The password was right: give back the IP's place and clear the username's count."""
    _give_back(_cache(), attempt.places)
    reset(attempt.username)


def reset(username: str) -> None:
    """Forget the failed attempts counted for ``username`` (not those of any IP)."""
    counter = _username_counter(username)
    if counter is not None:
        _cache().delete_many(counter.window_keys(timezone.now().timestamp()))


def _audit(
    request: HttpRequest | None,
    username: str,
    purpose: str,
    *,
    failure_code: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """A ``password_refused`` event: the account if it exists, never the typed username."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    audit.record(
        EventType.PASSWORD_REFUSED,
        outcome=Outcome.FAILURE,
        failure_code=failure_code,
        purpose=purpose,
        user=user,
        tenant=tenant_for(user) if user is not None else None,
        ip=client_ip(request),
        # Lets support see one username being tried, whether or not it is an account.
        detail={"username_key": _username_key(username)[:16], **(detail or {})},
    )
