"""`python manage.py whatsapp_templates_sync [--account NAME]`: mirror the templates Meta holds
(every page, every language) for one WhatsApp account or all active ones; prints the counts."""

from django.core.management.base import BaseCommand, CommandError

from channels_whatsapp.services import templates_sync
from providers.base import Channel, TransportError
from providers.models import ProviderAccount


class Command(BaseCommand):
    help = "Sync WhatsApp templates from Meta."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="WhatsApp account name (default: every active one)")

    def handle(self, *args, account, **options):
        accounts = ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True)
        if account:
            accounts = accounts.filter(name=account)
        if not accounts:
            raise CommandError(f"no active WhatsApp account named {account!r}" if account else "no WhatsApp account")
        failed = False
        for chosen in accounts:
            try:
                result = templates_sync(account=chosen)
            except TransportError as exc:
                self.stderr.write(f"{chosen.name}: {exc}")
                failed = True
                continue
            self.stdout.write(
                f"{chosen.name}: {result.created} new, {result.updated} changed, {result.gone} deleted at Meta"
            )
        if failed:
            raise CommandError("some accounts could not be synced")
