"""The backend interface every SMS backend implements, and the base of the provider backends.

``ProviderSmsBackend`` follows django-anymail's pattern: ``send`` runs the steps every
provider shares (read and check the settings, build the request, send it with a timeout,
classify the answer as sent, transient or permanent, return the provider's message id or
raise a typed ``SmsBackendError``); a provider module fills in only what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

from intelliauth_sms.conf import app_settings


@dataclass(frozen=True)
class OutgoingSms:
    """One SMS to deliver: the E.164 destination and the text."""

    to: str
    body: str
    message_id: str = ""


class SmsBackendError(Exception):
    """Delivery failed.

    ``transient`` failures (timeout, connection error, 429, 5xx, a provider's "throttled")
    may succeed later or elsewhere: the next backend of an ``SMS_BACKEND`` list is tried and
    the message may be retried. Permanent ones (invalid number, unknown destination,
    authentication) are not. ``provider_code`` is the provider's own error code ("21211",
    "InvalidParameter", Vonage's "3"), or "timeout" / "connection_error" when no answer
    came. The message never holds the body, a code or the number.
    """

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        status: int | None = None,
        transient: bool = False,
        provider_code: str = "",
    ) -> None:
        super().__init__(message)
        self.backend = backend
        self.status = status
        self.transient = transient
        self.provider_code = provider_code

    def describe(self) -> str:
        """One line for logs, the audit trail and ``intelliauth_sms_sendtest``."""
        kind = "transient" if self.transient else "permanent"
        parts = [self.backend or "backend", kind, str(self.status or "-"), self.provider_code]
        return " ".join(p for p in parts if p) + f": {self}"


class BaseSmsBackend:
    """Base class: subclasses implement ``send``.

    ``fail_silently`` mirrors Django's email backends; the app's delivery task always passes
    ``False`` so that failures are recorded.
    """

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        self.fail_silently = fail_silently

    def send(self, sms: OutgoingSms) -> str:
        """Deliver ``sms``; return the provider's message id (or "")."""
        raise NotImplementedError("SMS backends must implement send().")


RequestT = TypeVar("RequestT")
AnswerT = TypeVar("AnswerT")


class ProviderSmsBackend(BaseSmsBackend, Generic[RequestT, AnswerT]):
    """A real provider, configured by ``INTELLIAUTH_SMS[settings_key]``.

    Subclasses set the class attributes and implement ``build_request`` (the provider's
    wire format), ``post`` (send it within ``self.timeout``; a transport failure raises a
    transient error through ``self.error``) and ``parse_answer`` (the message id, or
    ``raise self.error(...)`` with the provider's code).
    """

    #: The key of ``INTELLIAUTH_SMS`` holding this provider's settings ("TWILIO").
    settings_key: ClassVar[str]
    #: Settings that must be set; a tuple inside means "one of these" (FROM or
    #: MESSAGING_SERVICE_SID).
    required_settings: ClassVar[tuple[str | tuple[str, ...], ...]] = ()
    #: Values of the optional settings.
    defaults: ClassVar[Mapping[str, Any]] = {"TIMEOUT": 10}
    #: Provider codes that are transient whatever the HTTP status (a "throttled" sent
    #: with 200 or 400), and codes that are permanent even with a 5xx.
    transient_codes: ClassVar[frozenset[str]] = frozenset()
    permanent_codes: ClassVar[frozenset[str]] = frozenset()
    #: What the provider's codes mean, for the error message. The provider's own text is
    #: never used: it can quote the destination number.
    error_messages: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *, config: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        given = dict(
            config if config is not None else app_settings.provider_settings(self.settings_key)
        )
        missing = self.missing_settings(given)
        if missing:
            raise ImproperlyConfigured(f"{self.name}: {', '.join(missing)} is not set.")
        self.config: dict[str, Any] = {**self.defaults, **given}
        self.timeout = float(self.config["TIMEOUT"])

    @classmethod
    def missing_settings(cls, config: Mapping[str, Any]) -> list[str]:
        """The required settings ``config`` lacks, each named as a site writes it:
        ``INTELLIAUTH_SMS['TWILIO']['AUTH_TOKEN']`` (the error and check E007 show these)."""
        missing = []
        for required in cls.required_settings:
            names = (required,) if isinstance(required, str) else required
            if not any(config.get(name) for name in names):
                keys = " or ".join(f"[{n!r}]" for n in names)
                missing.append(f"INTELLIAUTH_SMS[{cls.settings_key!r}]{keys}")
        return missing

    @property
    def name(self) -> str:
        """The dotted path of this backend, as ``SMS_BACKEND`` names it."""
        return f"{type(self).__module__}.{type(self).__qualname__}"

    def send(self, sms: OutgoingSms) -> str:
        """Build, send and classify: the provider's message id, or ``SmsBackendError``."""
        try:
            return self.parse_answer(self.post(self.build_request(sms)))
        except SmsBackendError:
            if self.fail_silently:
                return ""
            raise

    def build_request(self, sms: OutgoingSms) -> RequestT:
        """The provider's request for ``sms``."""
        raise NotImplementedError

    def post(self, request: RequestT) -> AnswerT:
        """Send ``request`` within ``self.timeout``; the provider's answer."""
        raise NotImplementedError

    def parse_answer(self, answer: AnswerT) -> str:
        """The provider's message id from a successful ``answer``; otherwise raise."""
        raise NotImplementedError

    def is_transient(self, status: int | None, provider_code: str) -> bool:
        """Whether a failure may succeed later: the provider's code first, then the status."""
        if provider_code in self.transient_codes:
            return True
        if provider_code in self.permanent_codes:
            return False
        return status is None or status == 429 or status >= 500

    def error(
        self, *, status: int | None = None, provider_code: str = "", message: str = ""
    ) -> SmsBackendError:
        """The classified error for a failed send (``raise self.error(...)``)."""
        meaning = message or self.error_messages.get(provider_code) or "the send failed"
        return SmsBackendError(
            meaning,
            backend=self.name,
            status=status,
            transient=self.is_transient(status, provider_code),
            provider_code=provider_code,
        )
