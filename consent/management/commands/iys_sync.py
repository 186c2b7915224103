"""`python manage.py iys_sync [--push] [--pull]`: one synchronous pass, printing what it did
(both when neither is given). The nightly backfill is not built yet."""

from django.core.management.base import BaseCommand, CommandError

from consent.iys.client import IysError
from consent.iys.sync import iys_accounts, iys_pull, iys_push


class Command(BaseCommand):
    help = "Synchronise consent with İYS once (pull both change feeds)."

    def add_arguments(self, parser):
        parser.add_argument("--push", action="store_true", help="send pending consent changes (Sync mode)")
        parser.add_argument("--pull", action="store_true", help="pull İYS's change feeds")

    def handle(self, *args, push, pull, **options):
        if not push and not pull:
            push = pull = True
        accounts = list(iys_accounts())
        if not accounts:
            raise CommandError("no active İYS connector: install it first (python manage.py install_connector iys ...)")
        for account in accounts:
            try:
                if push and account.settings.get("mode") == "sync":
                    done = iys_push(account=account)
                    self.stdout.write(
                        f"{account.name}: submitted {done['submitted']}, confirmed {done['confirmed']}, "
                        f"rejected {done['rejected']}, retrying {done['retrying']}"
                    )
                if pull:
                    result = iys_pull(account=account)
                    self.stdout.write(
                        f"{account.name}: pulled {result['HS']} brand-side and {result['IYS']} citizen changes"
                    )
            except IysError as exc:
                raise CommandError(f"{account.name}: {exc}") from exc
