"""Keyed hashes and the encryption used for codes in flight.

Phone numbers and codes are never stored in plaintext: lookups use an HMAC keyed with
``HASH_KEY`` (default ``SECRET_KEY``), and the code that a Celery task must put in the SMS
travels encrypted with the site's ``FIELD_ENCRYPTION_KEY`` (the same keys
django-encrypted-model-fields uses for the phone number columns).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes

from intelliauth_sms.conf import app_settings


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value``, domain-separated by ``purpose``, as hex.

    Django's ``salted_hmac`` construction: the key is SHA-256 of ``intelliauth_sms:<purpose>:``
    followed by ``HASH_KEY``, the same bytes the app has always derived, so stored hashes
    still match. The derived key is kept per purpose and ``HASH_KEY`` (a send hashes about
    eight values).
    """
    return hmac.new(
        _derived_key(purpose, app_settings.HASH_KEY), force_bytes(value), hashlib.sha256
    ).hexdigest()


@functools.lru_cache(maxsize=64)
def _derived_key(purpose: str, secret: str | bytes) -> bytes:
    return hashlib.sha256(force_bytes(f"intelliauth_sms:{purpose}:") + force_bytes(secret)).digest()


def phone_hash(e164: str) -> str:
    """The lookup hash of a normalised E.164 number."""
    return keyed_hash("phone", e164)


def code_hash(code_id: str, code: str) -> str:
    """The stored hash of a code, salted with the id of the code record it belongs to."""
    return keyed_hash("code", f"{code_id}:{code}")


def hashes_match(stored: str, candidate: str) -> bool:
    """Constant-time comparison of two hex digests (Django's ``constant_time_compare``)."""
    return constant_time_compare(stored, candidate)


def _fernet() -> MultiFernet:
    keys: Any = getattr(settings, "FIELD_ENCRYPTION_KEY", None)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set (intelliauth_sms.E001).")
    if isinstance(keys, str | bytes):
        keys = [keys]
    return _fernet_for(tuple(keys))


@functools.lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str | bytes, ...]) -> MultiFernet:
    """The cipher of these keys, made once (the first key encrypts, any key decrypts)."""
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_secret(plaintext: str) -> str:
    """Encrypt a short secret (a code) for a task payload."""
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    """Decrypt what ``encrypt_secret`` produced."""
    return _fernet().decrypt(token.encode("ascii")).decode()
