from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.models import Scope
from api.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key. The key is printed alone on the last line, once: it is stored only hashed."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="What the key is for (e.g. 'crm').")
        parser.add_argument("--scopes", required=True, help=f"Comma-separated: {','.join(Scope.values)}")
        parser.add_argument("--expires", help="YYYY-MM-DD: the last day the key works (Europe/Istanbul).")

    def handle(self, *args, name, scopes, expires, **options):
        try:
            expires_on = date.fromisoformat(expires) if expires else None
        except ValueError:
            raise CommandError(f"--expires '{expires}' is not a date in the form YYYY-MM-DD") from None
        try:
            api_key, key = api_key_create(name=name, scopes=scopes, expires_on=expires_on)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        until = f", works through {expires_on}" if expires_on else ""
        self.stdout.write(f"API key '{api_key.name}' ({api_key.prefix}) with scopes {','.join(api_key.scopes)}{until}.")
        self.stdout.write("Keep it now: it cannot be shown again.")
        self.stdout.write(key)
