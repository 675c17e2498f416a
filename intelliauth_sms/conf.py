"""App settings: one typed object over ``settings.INTELLIAUTH_SMS``, read on every access.

Nothing is cached or written back into ``django.conf.settings``, so ``override_settings``
and pytest-django's ``settings`` fixture take effect immediately.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop

DEFAULTS: dict[str, Any] = {
    # Dotted path to the SMS backend class (see intelliauth_sms.backends), or a list of
    # them tried in order when one fails transiently.
    "SMS_BACKEND": "intelliauth_sms.backends.console.SmsBackend",
    # The real providers' settings (CONTRACT §4 "Real SMS providers"; README "Providers").
    "TWILIO": {},
    "SNS": {},
    "VONAGE": {},
    # Directory for the filebased backend.
    "SMS_FILE_PATH": None,
    # Callable ``user -> Tenant``.
    "TENANT_RESOLVER": "intelliauth_sms.tenancy.resolve_tenant_by_membership",
    # Callable ``request -> str | None`` giving the client IP used for the per-IP limit.
    "CLIENT_IP_RESOLVER": "intelliauth_sms.client_ip.remote_addr",
    # Coarse per-IP request rate for every API endpoint, in django-ratelimit syntax;
    # ``None`` turns the guard off. It is a flood guard, not the contract's send limit.
    "REQUEST_RATE": "120/m",
    # Largest request body the API parses; larger bodies are ``invalid_request``.
    "MAX_BODY_BYTES": 16 * 1024,
    # Secret for keyed hashes of phone numbers and codes; ``None`` uses SECRET_KEY.
    "HASH_KEY": None,
    # Life of an authentication flow (seconds).
    "FLOW_TTL_SECONDS": 600,
    # Email the user when an SMS factor is added or removed (independent channel).
    "NOTIFY_BY_EMAIL": True,
    # Text of the SMS; ``{code}`` and ``{minutes}`` are filled in. Translated in the
    # language of the request that sent the code (the stock text ships in fr and es).
    "MESSAGE_TEMPLATE": gettext_noop(
        "Your verification code is {code}. It expires in {minutes} minutes."
    ),
    # Celery queue for the app's tasks; ``None`` uses the site's default queue.
    "CELERY_QUEUE": None,
    # Callable ``request -> datetime | None``: when this request's credentials last passed
    # the SMS step (CONTRACT §3 "MFA-bound access"). The default reads the session.
    "MFA_VERIFIED_AT": "intelliauth_sms.mfa.session_verified_at",
    # Revealing a number, removing a factor or enrolling another one needs an SMS step
    # this recent (seconds).
    "REAUTHENTICATION_SECONDS": 300,
    # Failed password attempts allowed at the drop-in sign-in (``intelliauth_sms.urls``)
    # per username and per client IP, as "count/period" (django-ratelimit's syntax,
    # "5/15m"); ``None`` turns that limit off. Counted in the shared cache.
    "SIGN_IN_FAILURES_PER_USERNAME": "5/15m",
    "SIGN_IN_FAILURES_PER_IP": "20/15m",
    # The site's domain for origin-bound codes (WICG "SMS one-time codes"): every code SMS
    # ends with "@<domain> #<code>", so browsers autofill it on that site only.
    "WEBOTP_DOMAIN": None,
    # Where the drop-in's recovery pages send a recovered user (to set up their sign-in
    # phone again); ``None`` uses LOGIN_REDIRECT_URL.
    "RECOVERY_REDIRECT_URL": None,
    # The site's security questions for account recovery: a list of {"id", "text"}.
    # Tenants may add their own in the console.
    "SECURITY_QUESTIONS": [
        {"id": "first-school", "text": "What was the name of your first school?"},
        {"id": "childhood-street", "text": "What street did you live on as a child?"},
        {"id": "first-employer", "text": "What was the name of your first employer?"},
        {"id": "favourite-teacher", "text": "What was the surname of your favourite teacher?"},
        {"id": "first-concert", "text": "Who did you see at the first concert you went to?"},
    ],
}


class AppSettings:
    """Typed view of ``settings.INTELLIAUTH_SMS`` with the app's defaults."""

    def _get(self, name: str) -> Any:
        user_settings = getattr(settings, "INTELLIAUTH_SMS", None) or {}
        return user_settings.get(name, DEFAULTS[name])

    @property
    def SMS_BACKEND(self) -> str:  # noqa: N802 - mirrors the settings key
        """The backend path, or the first of a list (what ``get_backend()`` builds)."""
        return self.SMS_BACKENDS[0]

    @property
    def SMS_BACKENDS(self) -> list[str]:  # noqa: N802
        """Every configured backend path, in failover order."""
        value = self._get("SMS_BACKEND")
        paths = [str(p) for p in value] if isinstance(value, list | tuple) else [str(value)]
        return paths or [str(DEFAULTS["SMS_BACKEND"])]

    def provider_settings(self, key: str) -> dict[str, Any]:
        """A provider's settings dict (``"TWILIO"``, ``"SNS"``, ``"VONAGE"``); ``{}`` if unset."""
        return dict(self._get(key) or {})

    @property
    def TWILIO(self) -> dict[str, Any]:  # noqa: N802
        return self.provider_settings("TWILIO")

    @property
    def SNS(self) -> dict[str, Any]:  # noqa: N802
        return self.provider_settings("SNS")

    @property
    def VONAGE(self) -> dict[str, Any]:  # noqa: N802
        return self.provider_settings("VONAGE")

    @property
    def SMS_FILE_PATH(self) -> str | None:  # noqa: N802
        value = self._get("SMS_FILE_PATH")
        return None if value is None else str(value)

    @property
    def TENANT_RESOLVER(self) -> str:  # noqa: N802
        return str(self._get("TENANT_RESOLVER"))

    @property
    def CLIENT_IP_RESOLVER(self) -> str:  # noqa: N802
        return str(self._get("CLIENT_IP_RESOLVER"))

    @property
    def REQUEST_RATE(self) -> str | None:  # noqa: N802
        value = self._get("REQUEST_RATE")
        return None if value is None else str(value)

    @property
    def MAX_BODY_BYTES(self) -> int:  # noqa: N802
        return int(self._get("MAX_BODY_BYTES"))

    @property
    def HASH_KEY(self) -> str:  # noqa: N802
        value = self._get("HASH_KEY")
        return str(value) if value else str(settings.SECRET_KEY)

    @property
    def FLOW_TTL_SECONDS(self) -> int:  # noqa: N802
        return int(self._get("FLOW_TTL_SECONDS"))

    @property
    def NOTIFY_BY_EMAIL(self) -> bool:  # noqa: N802
        return bool(self._get("NOTIFY_BY_EMAIL"))

    @property
    def MESSAGE_TEMPLATE(self) -> str:  # noqa: N802
        return str(self._get("MESSAGE_TEMPLATE"))

    @property
    def CELERY_QUEUE(self) -> str | None:  # noqa: N802
        value = self._get("CELERY_QUEUE")
        return None if value is None else str(value)

    @property
    def MFA_VERIFIED_AT(self) -> str:  # noqa: N802
        return str(self._get("MFA_VERIFIED_AT"))

    @property
    def REAUTHENTICATION_SECONDS(self) -> int:  # noqa: N802
        return int(self._get("REAUTHENTICATION_SECONDS"))

    @property
    def WEBOTP_DOMAIN(self) -> str | None:  # noqa: N802
        value = self._get("WEBOTP_DOMAIN")
        return None if value is None else str(value)

    @property
    def RECOVERY_REDIRECT_URL(self) -> str | None:  # noqa: N802
        value = self._get("RECOVERY_REDIRECT_URL")
        return None if value is None else str(value)

    @property
    def SECURITY_QUESTIONS(self) -> list[dict[str, str]]:  # noqa: N802
        return [
            {"id": str(item["id"]), "text": str(item["text"])}
            for item in self._get("SECURITY_QUESTIONS")
        ]

    @property
    def SIGN_IN_FAILURES_PER_USERNAME(self) -> str | None:  # noqa: N802
        value = self._get("SIGN_IN_FAILURES_PER_USERNAME")
        return None if value is None else str(value)

    @property
    def SIGN_IN_FAILURES_PER_IP(self) -> str | None:  # noqa: N802
        value = self._get("SIGN_IN_FAILURES_PER_IP")
        return None if value is None else str(value)


app_settings = AppSettings()
