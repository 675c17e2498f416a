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
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum

from intelliauth_sms.client_ip import ip_bucket
from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.exceptions import CostCapReached, CountryNotAllowed, Locked, RateLimited
from intelliauth_sms.models import (
    CodePurpose,
    CountryRule,
    SmsMessage,
    SmsUserState,
    TenantPolicy,
)
from intelliauth_sms.phone import PhoneNumber
from intelliauth_sms.services.context import Caller
from intelliauth_sms.services.locks import (
    destination_lock_key,
    ip_lock_key,
    lock_key,
    lock_policy,
)
from intelliauth_sms.services.pumping import check_breaker

WINDOW = timedelta(hours=1)
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
) -> tuple[QuerySet[SmsMessage], int]:
    """The sends a purpose's own limit counts, and that limit."""
    if purpose == CodePurpose.ENROLMENT:
        # Per user, across all of the user's enrolments.
        return (
            SmsMessage.objects.filter(user=caller.user, purpose=CodePurpose.ENROLMENT),
            policy.enrolment_sms_per_hour,
        )
    # Sign-in flows and recoveries: per flow / per recovery.
    return SmsMessage.objects.filter(subject_id=subject_id), policy.auth_sms_per_hour


#: The lock name of the shared bucket of sends whose request had no usable address.
NO_ADDRESS_BUCKET = "no-address"


def sends_from(bucket: str | None) -> QuerySet[SmsMessage]:
    """The sends of one address bucket (``SmsMessage.client_ip`` holds the bucket)."""
    if bucket is None:
        return SmsMessage.objects.filter(client_ip__isnull=True)
    return SmsMessage.objects.filter(client_ip=bucket)


def price_for(caller: Caller, country: str) -> tuple[Pricing, bool]:
    """The price of a send to ``country`` and whether the tenant's rules allow it."""
    rules = {rule.country: rule for rule in CountryRule.objects.filter(tenant=caller.tenant)}
    rule = rules.get(country)
    allow_list_mode = any(r.action == CountryRule.Action.ALLOW for r in rules.values())
    if rule is not None and rule.action == CountryRule.Action.BLOCK:
        allowed = False
    elif allow_list_mode:
        allowed = rule is not None and rule.action == CountryRule.Action.ALLOW
    else:
        allowed = True
    pricing = Pricing(
        unit_cost=rule.unit_cost if rule else Decimal("0"),
        high_cost=bool(rule and rule.high_cost),
    )
    return pricing, allowed


def high_cost_spend_today(caller: Caller, now: datetime) -> Decimal:
    """The tenant's spend on high-cost destinations since 00:00 UTC."""
    day_start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    total = SmsMessage.objects.filter(
        tenant=caller.tenant, high_cost=True, created_at__gte=day_start
    ).aggregate(total=Sum("unit_cost"))["total"]
    return total or Decimal("0")


def _enforce_cost_cap(
    caller: Caller, policy: TenantPolicy, pricing: Pricing, now: datetime
) -> None:
    """Refuse a high-cost send that would take today's spend over the tenant's cap."""
    if pricing.high_cost and policy.daily_high_cost_cap is not None:
        # Under the policy row's lock, so concurrent sends cannot overspend together.
        cap = lock_policy(caller.tenant).daily_high_cost_cap
        if cap is not None and high_cost_spend_today(caller, now) + pricing.unit_cost > cap:
            raise CostCapReached()


def authorise_send(
    caller: Caller,
    state: SmsUserState,
    *,
    purpose: str,
    subject_id: uuid.UUID,
    destination: PhoneNumber,
    now: datetime,
) -> Pricing:
    """Run every check for one send; raise the first refusal or return the send's price.

    Must run inside ``transaction.atomic()`` with ``state`` locked (``lock_user_state``),
    and the caller must record the send (an ``SmsMessage``) in the same transaction.
    """
    policy = current_policy(caller)
    ensure_not_locked(state, now)

    own_sends, own_limit = _rate_scope(caller, policy, purpose, subject_id)
    _enforce_rolling_limit(own_sends, own_limit, now)

    if purpose in SIGN_IN_PURPOSES:
        # Under the user's lock (``lock_user_state``), like the purpose's own rate.
        _enforce_rolling_limit(
            SmsMessage.objects.filter(user=caller.user, purpose__in=SIGN_IN_PURPOSES),
            policy.user_auth_sms_per_hour,
            now,
        )

    if caller.request is not None or caller.ip is not None:
        # Every HTTP request counts against an address bucket: an IPv6 /64, an IPv4
        # address, or the one shared bucket of requests without a usable address
        # (``client_ip.ip_bucket``), so those are never unlimited. Sends made from Python
        # with neither a request nor an address (a site's own code) have no client.
        bucket = ip_bucket(caller.ip)
        lock_key(ip_lock_key(bucket or NO_ADDRESS_BUCKET))
        _enforce_rolling_limit(sends_from(bucket), policy.ip_sms_per_hour, now)

    destination_hash = phone_hash(destination.e164)
    lock_key(destination_lock_key(destination_hash))
    _enforce_rolling_limit(
        SmsMessage.objects.filter(phone_hash=destination_hash),
        policy.destination_sms_per_hour,
        now,
    )

    pricing, allowed = price_for(caller, destination.country)
    if not allowed:
        raise CountryNotAllowed()

    monitor_trip = check_breaker(caller.tenant, policy, destination.e164, now)

    try:
        _enforce_cost_cap(caller, policy, pricing, now)
    except CostCapReached as refusal:
        # A monitor-mode trip this send decided stands though the cap refuses the send.
        refusal.on_refused = monitor_trip
        raise
    if monitor_trip is not None:
        monitor_trip()
    return pricing
