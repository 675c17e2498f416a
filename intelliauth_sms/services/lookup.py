"""Finding a caller's own rows by an id from a URL: anything else is ``not_found``."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from intelliauth_sms.exceptions import NotFound
from intelliauth_sms.services.reads import read_one

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


def read_owned(model: type[M], object_id: object, lookups: dict[str, Any], **options: Any) -> M:
    """``get_owned`` for the hot paths: the ``model`` row with ``object_id`` among those
    matching ``lookups`` (the caller's), read in plain SQL (``reads.read_one``, whose
    ``related`` and ``lock`` options it passes on), or ``not_found``."""
    found = read_one(model, {"id": parse_uuid(object_id), **lookups}, **options)
    if found is None:
        raise NotFound()
    return found
