"""Create the first admin user for `make run`: the password is printed once (or taken from
ADMIN_PASSWORD). Idempotent: an existing user keeps its password unless --reset is given."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from providers.roles import ADMIN


class Command(BaseCommand):
    help = "Create the admin user (password printed once, or ADMIN_PASSWORD)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("ADMIN_USERNAME", "admin"))
        parser.add_argument("--reset", action="store_true", help="set a new password for an existing user")

    def handle(self, *args, username, reset, **options):
        User = get_user_model()
        password = os.environ.get("ADMIN_PASSWORD") or ""
        user = User.objects.filter(username=username).first()
        if user and not (reset or password):
            self.stdout.write(
                f"Admin user '{username}' exists; its password is unchanged "
                "(ADMIN_PASSWORD=... or `python manage.py ensure_admin --reset` sets a new one)."
            )
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser(username=username, email="", password=password)
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        user.groups.add(Group.objects.get(name=ADMIN))
        shown = password if generated else "(from ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"Log in to the panel as '{username}' with password: {shown}"))
