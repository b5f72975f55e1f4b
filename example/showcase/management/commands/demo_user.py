"""``manage.py demo_user``: an account for looking around the demo site.

The demo must never ship a known password, so each call sets a fresh random one
for the superuser ``demo`` and prints it once.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """Create (or reset) the demo superuser with a new random password."""

    help = "Create or reset the superuser 'demo' with a new random password and print it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo", help="Account name (default: demo).")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        verb = "created" if created else "reset"
        self.stdout.write(f"Demo account {verb}: user {username!r}, password {password!r}")
