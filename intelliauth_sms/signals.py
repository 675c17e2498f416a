"""Public signals a site can hook. Each is sent after the change has been committed.

``factor_enrolled(sender, user, factor, request)``
    An SMS factor was added. ``factor`` is the ``SmsFactor``.
``factor_removed(sender, user, factor_id, phone_last4, request)``
    An SMS factor was deleted.
``mfa_verified(sender, user, flow, request)``
    The SMS step of a sign-in flow succeeded.
``lockout_started(sender, user, tenant, locked_until, disabled)``
    Wrong codes locked the user; ``disabled`` is true when only support can unlock
    (``locked_until`` is then ``None``).
``recovery_requested(sender, user, recovery, request)`` / ``recovery_completed(...)``
    An SMS account recovery was started / finished.

``pumping_breaker_tripped(sender, tenant, prefix, mode, sends, verified)``
    The SMS-pumping breaker of ``tenant`` tripped for a destination prefix (its first 7
    digits): ``mode`` is ``"enforce"`` (sends paused) or ``"monitor"``. Page someone.
``pumping_breaker_cleared(sender, tenant, prefix, actor)``
    An admin cleared a tripped breaker early.

``sender`` is always the ``intelliauth_sms`` services module that sent it. ``request`` may be
``None`` when the change came from Python code rather than an HTTP request.
"""

from __future__ import annotations

from django.dispatch import Signal

factor_enrolled = Signal()
factor_removed = Signal()
mfa_verified = Signal()
lockout_started = Signal()
recovery_requested = Signal()
recovery_completed = Signal()
pumping_breaker_tripped = Signal()
pumping_breaker_cleared = Signal()
