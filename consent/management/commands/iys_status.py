from django.core.management.base import BaseCommand
from django.utils import timezone

from consent.iys.status import iys_status
from consent.selectors import IysGate


class Command(BaseCommand):
    help = "Print the İYS synchronisation status: backlog, deadlines, last pull, errors by H-code."

    def handle(self, *args, **options):
        status = iys_status()
        local = timezone.localtime
        self.stdout.write(
            f"backlog: {status.backlog} (" + ", ".join(f"{k}: {v}" for k, v in sorted(status.by_state.items())) + ")"
        )
        deadline = local(status.oldest_deadline).strftime("%Y-%m-%d %H:%M") if status.oldest_deadline else "-"
        self.stdout.write(f"oldest open deadline: {deadline}; overdue: {status.overdue}")
        pulled = local(status.last_pull).strftime("%Y-%m-%d %H:%M") if status.last_pull else "never"
        self.stdout.write(f"last pull: {pulled}")
        if status.errors_by_code:
            self.stdout.write("errors: " + ", ".join(f"{k}: {v}" for k, v in sorted(status.errors_by_code.items())))
        for backfill in status.backfills:
            starts = local(backfill.starts_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"backfill ({backfill.account.name}): {backfill.state} {backfill.percent}%, "
                f"{backfill.processed} of {backfill.total} contacts (starts {starts})"
                + (f"; last error: {backfill.last_error}" if backfill.last_error else "")
            )
        n = status.awaiting_iys
        if status.gate == IysGate.INTEGRATOR:
            self.stdout.write(f"ONAY awaiting İYS confirmation (Integrator mode, not sendable yet): {n}")
        elif status.gate == IysGate.SYNC:
            self.stdout.write(f"ONAY not yet confirmed by İYS (Sync mode, sendable now): {n}")
        else:
            self.stdout.write("no İYS connector: ONAY is not checked, nothing awaits İYS")
