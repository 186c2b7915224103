"""`python manage.py sms_send --to +90… --text … [--kind transactional|newsletter] [--account NAME]
[--sender NAME]`: one SMS now, under the sending rule; prints the message id and its status."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from channels_sms.services import message_send
from messaging.management.commands.send_campaign import errors_text
from messaging.selectors import NoAccount, sms_account


class Command(BaseCommand):
    help = "Send one SMS (the sending rule applies)."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True)
        parser.add_argument("--text", required=True)
        parser.add_argument("--kind", choices=["transactional", "newsletter"], default="transactional")
        parser.add_argument("--account", help="provider account name (default: the only active SMS account)")
        parser.add_argument("--sender", default="")

    def handle(self, *args, to, text, kind, account, sender, **options):
        try:
            chosen = sms_account(account)
        except NoAccount as exc:
            raise CommandError(str(exc)) from None
        try:
            message = message_send(to=to, text=text, kind=kind, account=chosen, sender=sender)
        except ValidationError as exc:
            raise CommandError(errors_text(exc)) from exc
        self.stdout.write(
            f"message {message.pk} to {message.to}: {message.status}"
            + (f" ({message.reason})" if message.reason else "")
        )
        if message.status in ("skipped", "failed", "rejected"):
            raise CommandError(f"not sent: {message.reason or message.status}")
