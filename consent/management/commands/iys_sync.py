"""`python manage.py iys_sync [--push] [--pull] [--backfill [--batches N]]`: one synchronous pass,
printing what it did (push and pull when no option is given). `--backfill` runs the backfill now,
whatever its start hour, from its resume point to the end (or N batches of 100 contacts)."""

from django.core.management.base import BaseCommand, CommandError

from consent.iys.backfill import backfill_run
from consent.iys.client import IysError
from consent.iys.sync import iys_accounts, iys_pull, iys_push


class Command(BaseCommand):
    help = "Synchronise consent with İYS once: push, pull, and/or the backfill of every contact."

    def add_arguments(self, parser):
        parser.add_argument("--push", action="store_true", help="send pending consent changes (Sync mode)")
        parser.add_argument("--pull", action="store_true", help="pull İYS's change feeds")
        parser.add_argument("--backfill", action="store_true", help="check every contact against İYS now")
        parser.add_argument("--batches", type=int, default=None, help="with --backfill: stop after N batches")

    def handle(self, *args, push, pull, backfill, batches, **options):
        if not push and not pull and not backfill:
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
                if backfill:
                    self._backfill(account, batches)
            except IysError as exc:
                raise CommandError(f"{account.name}: {exc}") from exc

    def _backfill(self, account, batches):
        state = None
        remaining = batches
        while remaining is None or remaining > 0:
            step = 10 if remaining is None else min(10, remaining)
            state = backfill_run(account=account, max_batches=step, force=True)
            self.stdout.write(
                f"{account.name}: backfill {state.percent}% ({state.processed} of {state.total} contacts), "
                f"{state.confirmed} ONAY confirmed, {state.imported} taken from İYS, {state.queued} queued for "
                f"İYS, {state.not_at_iys} ONAY that İYS does not hold"
            )
            if state.state == "done":
                break
            if remaining is not None:
                remaining -= step
