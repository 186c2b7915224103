"""`python manage.py iys_sync [--pull]`: one synchronous pass, printing what it did.
(--push and --backfill come with the push side of the İYS connector.)"""

from django.core.management.base import BaseCommand, CommandError

from consent.iys.client import IysError
from consent.iys.sync import iys_accounts, iys_pull


class Command(BaseCommand):
    help = "Synchronise consent with İYS once (pull both change feeds)."

    def add_arguments(self, parser):
        parser.add_argument("--pull", action="store_true", help="pull İYS's change feeds (default)")

    def handle(self, *args, pull, **options):
        accounts = list(iys_accounts())
        if not accounts:
            raise CommandError("no active İYS connector: install it first (python manage.py install_connector iys ...)")
        for account in accounts:
            try:
                result = iys_pull(account=account)
            except IysError as exc:
                raise CommandError(f"{account.name}: {exc}") from exc
            self.stdout.write(f"{account.name}: pulled {result['HS']} brand-side and {result['IYS']} citizen changes")
