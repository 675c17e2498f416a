"""Finding a caller's own rows by an id from a URL: anything else is ``not_found``."""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet

from intelliauth_sms.exceptions import NotFound

M = TypeVar("M", bound=Model)


def parse_uuid(value: object) -> uuid.UUID:
    """A UUID from a path segment; malformed ids are ``not_found``, like unknown ones."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound() from exc


def get_owned(queryset: QuerySet[M], object_id: object) -> M:
    """The row with ``object_id`` in ``queryset`` (already filtered to the caller), or 404."""
    found = queryset.filter(pk=parse_uuid(object_id)).first()
    if found is None:
        raise NotFound()
    return found
