"""The send-policy gate: the one place that decides whether an SMS may be sent.

Every send path (enrolment, sign-in step, step-up, recovery) calls ``authorise_send``
inside its transaction. The checks run in a fixed order, and the first that refuses raises
its ``SmsError``:

1. the failed-code lockout;
2. the purpose's own rate: per user for enrolment, per flow or recovery otherwise;
3. sign-in and recovery codes per user across all of their flows (SMS bombing);
4. sends per client address bucket (IPv6 /64, IPv4, or the shared no-address bucket);
5. codes per destination number, across every user and tenant (keyed hash);
6. the tenant's country rules;
7. the SMS-pumping breaker of the tenant for the number's prefix (``services.pumping``);
   in monitor mode a trip it decides is recorded even if the next check refuses the send;
8. the daily high-cost cap.

Why the database and not the cache for these limits: the contract asks for rolling
60-minute windows that hold exactly under concurrency and survive a cache flush or restart.
The rows the limits count (``SmsMessage``) already exist for audit and cost, so each limit
is a small indexed count under a row lock (see ``locks``). django-ratelimit guards the API
in front of this with a coarse per-IP request rate over the shared cache
(``api.throttle``), where its fixed windows are fine and a lost counter costs nothing.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from intelliauth_sms.client_ip import ip_bucket
from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.exceptions import CostCapReached, CountryNotAllowed, Locked, RateLimited
from intelliauth_sms.models import (
    CodePurpose,
    CountryRule,
    PumpingProtection,
    SmsMessage,
    SmsUserState,
    TenantPolicy,
)
from intelliauth_sms.phone import PhoneNumber
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.gate_reads import Window, count_windows, read_policy_for_send
from intelliauth_sms.services.locks import (
    destination_lock_key,
    ip_lock_key,
    lock_keys,
)
from intelliauth_sms.services.pumping import check_breaker, lock_breaker, prefix_sends
from intelliauth_sms.services.reads import read_one
from intelliauth_sms.services.spend import add_high_cost_spend

WINDOW = timedelta(hours=1)
#: A country rule's ``unit_cost`` has 4 decimal places.
UNIT_COST_PLACES = Decimal("0.0001")
#: The codes the per-user sign-in cap counts: every flow's and recovery's, and the codes
#: django-allauth signs in or verifies phones with (``contrib.allauth``).
SIGN_IN_PURPOSES = (CodePurpose.AUTHENTICATION, CodePurpose.RECOVERY, CodePurpose.ALLAUTH)


@dataclass(frozen=True)
class Pricing:
    """What a send to a country costs the tenant."""

    unit_cost: Decimal
    high_cost: bool


def current_policy(caller: Caller) -> TenantPolicy:
    """The tenant's policy as it is now (policy changes apply to the next request)."""
    policy = read_one(TenantPolicy, {"tenant_id": caller.tenant.pk})
    if policy is None:  # a tenant saved without its policy row (``handlers`` creates it)
        policy, _created = TenantPolicy.objects.get_or_create(tenant=caller.tenant)
    return policy


def ensure_not_locked(state: SmsUserState, now: datetime) -> None:
    """Raise ``Locked`` while the user's lockout (or support-only disablement) lasts."""
    if state.disabled_at is not None:
        raise Locked.for_wait(None)
    if state.locked_until is not None and state.locked_until > now:
        raise Locked.for_wait(math.ceil((state.locked_until - now).total_seconds()))


def _enforce_rolling_limit(sends: QuerySet[SmsMessage], limit: int, now: datetime) -> None:
    """Refuse when ``limit`` sends already fall in the last hour; name the real wait."""
    recent = list(
        sends.filter(created_at__gt=now - WINDOW)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        # When the oldest of the latest ``limit`` sends leaves the window, one slot frees.
        frees_at = recent[limit - 1] + WINDOW
        raise RateLimited.for_wait(max(1, math.ceil((frees_at - now).total_seconds())))


def _rate_scope(
    caller: Caller, policy: TenantPolicy, purpose: str, subject_id: uuid.UUID
) -> tuple[dict[str, Any], int]:
    """The sends a purpose's own limit counts, and that limit."""
    if purpose == CodePurpose.ENROLMENT:
        # Per user, across all of the user's enrolments.
        return (
            {"user_id": caller.user.pk, "purpose": CodePurpose.ENROLMENT},
            policy.enrolment_sms_per_hour,
        )
    # Sign-in flows and recoveries: per flow / per recovery.
    return {"subject_id": subject_id}, policy.auth_sms_per_hour


#: The lock name of the shared bucket of sends whose request had no usable address.
NO_ADDRESS_BUCKET = "no-address"


def _from_bucket(bucket: str | None) -> dict[str, Any]:
    """The sends of one address bucket (``SmsMessage.client_ip`` holds the bucket)."""
    return {"client_ip__isnull": True} if bucket is None else {"client_ip": bucket}


def policy_for_send(caller: Caller, country: str) -> TenantPolicy:
    """The tenant's policy with what its country rules say about ``country``, in one query
    (``price_for`` reads them from it): the rule's action, price and cost class, and whether
    any rule allows a country (allow-list mode)."""
    policy = read_policy_for_send(caller.tenant.pk, country)
    if policy is None:  # a tenant without its policy row: create it, then read as above
        current_policy(caller)
        policy = read_policy_for_send(caller.tenant.pk, country)
        if policy is None:
            raise TenantPolicy.DoesNotExist(f"No policy for tenant {caller.tenant.pk}.")
    return policy


def price_for(policy: Any) -> tuple[Pricing, bool]:
    """The price of a send and whether the tenant's rules allow it, from what
    ``policy_for_send`` read with the policy about the destination's country."""
    action = policy.rule_action
    if action == CountryRule.Action.BLOCK:
        allowed = False
    elif policy.allow_list_mode:
        allowed = action == CountryRule.Action.ALLOW
    else:
        allowed = True
    cost = policy.rule_unit_cost
    pricing = Pricing(
        # To the field's 4 places: SQLite returns a decimal column as a float.
        unit_cost=Decimal(str(cost)).quantize(UNIT_COST_PLACES)
        if cost is not None
        else Decimal("0"),
        high_cost=bool(policy.rule_high_cost),
    )
    return pricing, allowed


def _charge(caller: Caller, policy: TenantPolicy, pricing: Pricing, now: datetime) -> None:
    """Add a high-cost send to the day's spend; refuse it if that goes over the cap.

    The addition locks the day's row, so concurrent sends cannot overspend together, and it
    is rolled back with a refused send.
    """
    if not pricing.high_cost:
        return
    total = add_high_cost_spend(caller.tenant, now, pricing.unit_cost)
    cap = policy.daily_high_cost_cap
    if cap is not None and total > cap:
        raise CostCapReached()


def authorise_send(
    caller: Caller,
    state: SmsUserState,
    *,
    purpose: str,
    subject_id: uuid.UUID,
    destination: PhoneNumber,
    now: datetime,
    policy: TenantPolicy | None = None,
) -> Pricing:
    """Run every check for one send; raise the first refusal or return the send's price.

    Must run inside ``transaction.atomic()`` with ``state`` locked (``lock_user_state``),
    and the caller must record the send (an ``SmsMessage``) in the same transaction.
    ``policy`` is the tenant's policy as ``policy_for_send`` reads it for the destination, if
    the caller has just read it (read here otherwise).

    The rows that make the limits exact are locked first, in the fixed order (the user's,
    held already; the address bucket's; the number's; the prefix's breaker), then every
    rolling window is counted in one query, and the checks run in their documented order.
    A refused limit reads its window once more, to name the real wait.
    """
    policy = policy or policy_for_send(caller, destination.country)
    ensure_not_locked(state, now)

    own_sends, own_limit = _rate_scope(caller, policy, purpose, subject_id)
    windows = {"own": Window(own_sends, own_limit)}
    if purpose in SIGN_IN_PURPOSES:
        # Under the user's lock (``lock_user_state``), like the purpose's own rate.
        windows["user"] = Window(
            {"user_id": caller.user.pk, "purpose__in": SIGN_IN_PURPOSES},
            policy.user_auth_sms_per_hour,
        )
    keys: list[str] = []
    if caller.request is not None or caller.ip is not None:
        # Every HTTP request counts against an address bucket: an IPv6 /64, an IPv4
        # address, or the one shared bucket of requests without a usable address
        # (``client_ip.ip_bucket``), so those are never unlimited. Sends made from Python
        # with neither a request nor an address (a site's own code) have no client.
        bucket = ip_bucket(caller.ip)
        keys.append(ip_lock_key(bucket or NO_ADDRESS_BUCKET))
        windows["ip"] = Window(_from_bucket(bucket), policy.ip_sms_per_hour)
    destination_hash = phone_hash(destination.e164)
    keys.append(destination_lock_key(destination_hash))
    lock_keys(*keys)  # the address's lock row, then the number's: one statement
    windows["destination"] = Window(
        {"phone_hash": destination_hash}, policy.destination_sms_per_hour
    )
    breaker = None
    if policy.pumping_protection != PumpingProtection.OFF:
        breaker = lock_breaker(caller.tenant, destination.e164)
        windows["prefix"] = Window(prefix_sends(breaker, now), None)

    counts = count_windows(windows, since=now - WINDOW)
    for name, window in windows.items():
        if window.limit is not None and counts[name] >= window.limit:
            _enforce_rolling_limit(SmsMessage.objects.filter(window.sends), window.limit, now)

    pricing, allowed = price_for(policy)
    if not allowed:
        raise CountryNotAllowed()

    monitor_trip = None
    if breaker is not None:
        monitor_trip = check_breaker(
            caller.tenant, policy, breaker, destination.e164, now, counts["prefix"]
        )

    try:
        _charge(caller, policy, pricing, now)
    except CostCapReached as refusal:
        # A monitor-mode trip this send decided stands though the cap refuses the send.
        refusal.on_refused = monitor_trip
        raise
    if monitor_trip is not None:
        monitor_trip()
    return pricing
