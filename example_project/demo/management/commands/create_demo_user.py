from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - published demo credential, local use only
DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = "Create the demo user, or reset its password and email if it exists."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        lookup = {user_model.USERNAME_FIELD: DEMO_USERNAME}
        user, created = user_model._default_manager.get_or_create(defaults=None, **lookup)
        user.email = DEMO_EMAIL
        user.is_active = True
        # Staff so the admin lets it in (after the demo sign-in); no permissions granted.
        user.is_staff = True
        user.set_password(DEMO_PASSWORD)
        user.save()

        self.stdout.write(
            self.style.SUCCESS(f"{'Created' if created else 'Reset'} demo user.")
            + f"\n  username: {DEMO_USERNAME}\n  password: {DEMO_PASSWORD}"
            + "\n  sign in at http://127.0.0.1:8000/accounts/login/"
        )
