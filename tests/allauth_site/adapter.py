"""The test site's adapter: the app's SMS delivery plus the site's phone storage."""

from __future__ import annotations

from typing import Any

from intelliauth_sms.contrib.allauth.adapter import AccountAdapter
from intelliauth_sms.crypto import phone_hash
from intelliauth_sms.phone import parse_e164
from tests.allauth_site.models import SitePhone


class SiteAccountAdapter(AccountAdapter):
    """Numbers live in ``SitePhone`` (encrypted, looked up by keyed hash)."""

    def set_phone(self, user: Any, phone: str, verified: bool) -> None:
        row, _created = SitePhone.objects.get_or_create(user=user, defaults={"verified": False})
        row.set_phone(parse_e164(phone))
        row.verified = verified
        row.save()

    def get_phone(self, user: Any) -> tuple[str, bool] | None:
        row = SitePhone.objects.filter(user=user).first()
        return (str(row.phone_number), row.verified) if row else None

    def set_phone_verified(self, user: Any, phone: str) -> None:
        super().set_phone_verified(user, phone)  # the app counts the code as typed back
        SitePhone.objects.filter(user=user, phone_hash=phone_hash(phone)).update(verified=True)

    def get_user_by_phone(self, phone: str) -> Any:
        row = SitePhone.objects.filter(phone_hash=phone_hash(phone)).select_related("user").first()
        return row.user if row else None
