"""Create the first admin user for `make run`: the password is printed once (or taken from
ADMIN_PASSWORD, which must pass the password validators). Idempotent: an existing user keeps its
password unless --reset is given."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from providers.roles import ADMIN


def _generated_password(user) -> str:
    """A random password that passes the configured validators (AUTH_PASSWORD_VALIDATORS)."""
    for _attempt in range(20):
        password = secrets.token_urlsafe(12)
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            refused = exc
            continue
        return password
    raise CommandError("no generated password passes the password validators: " + " ".join(refused.messages))


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
        candidate = user or User(username=username)
        if generated:
            password = _generated_password(candidate)
        else:
            try:
                validate_password(password, user=candidate)
            except ValidationError as exc:
                raise CommandError("ADMIN_PASSWORD is refused: " + " ".join(exc.messages)) from exc
        if user is None:
            user = User.objects.create_superuser(username=username, email="", password=password)
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        user.groups.add(Group.objects.get(name=ADMIN))
        shown = password if generated else "(from ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"Log in to the panel as '{username}' with password: {shown}"))
