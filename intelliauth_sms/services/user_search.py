"""Finding the users a console search term names."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q


def user_ids_matching(term: str, limit: int = 100) -> list[int]:
    """Ids of the users a console search term names: username or email, exactly (any
    case), or usernames starting with it."""
    term = term.strip()
    if not term:
        return []
    user_model = get_user_model()
    username = user_model.USERNAME_FIELD
    email = user_model.get_email_field_name()
    query = Q(**{f"{username}__iexact": term}) | Q(**{f"{username}__istartswith": term})
    if any(f.name == email for f in user_model._meta.get_fields()):
        query |= Q(**{f"{email}__iexact": term})
    return list(user_model._default_manager.filter(query).values_list("pk", flat=True)[:limit])
