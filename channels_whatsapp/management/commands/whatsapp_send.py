"""`python manage.py whatsapp_send --to +90… --template NAME [--language tr] [--var [PART.]N=VALUE …]
[--account NAME]`, or `--text …` inside the 24-hour window: one WhatsApp message now, under the
sending rule (the number's contact must have opted in); prints the message id and its status."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from channels_whatsapp.channel import parse_vars
from channels_whatsapp.models import WhatsAppTemplate
from channels_whatsapp.single import whatsapp_send
from messaging.management.commands.send_campaign import errors_text
from messaging.selectors import NoAccount, channel_account
from providers.base import Channel


class Command(BaseCommand):
    help = "Send one WhatsApp message: an approved template, or free text inside the 24-hour window."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True)
        parser.add_argument("--template", help="an approved template's name")
        parser.add_argument("--language", default="tr")
        parser.add_argument("--var", action="append", default=[], metavar="[PART.]N=VALUE",
                            help="a variable's value, e.g. 1=Ayşe, button:0.1=ORDER-7 (the template's defaults "
                            "and bindings fill the others)")  # fmt: skip
        parser.add_argument("--text", default="", help="free text: only within 24 hours of their last message")
        parser.add_argument("--account", help="WhatsApp account name (default: the only active one)")

    def handle(self, *args, to, template, language, var, text, account, **options):
        try:
            chosen = channel_account(Channel.WHATSAPP, account)
        except NoAccount as exc:
            raise CommandError(str(exc)) from None
        found = None
        if template:
            found = WhatsAppTemplate.objects.filter(account=chosen, name=template, language=language).first()
            if found is None:
                raise CommandError(f"the account {chosen.name} has no template {template!r} in {language!r}")
        try:
            values = parse_vars(var, literal=True)
            message = whatsapp_send(to=to, account=chosen, template=found, values=values, text=text)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(errors_text(exc)) from exc
        self.stdout.write(
            f"message {message.pk} to {message.to}: {message.status}"
            + (f" ({message.reason})" if message.reason else "")
        )
        if message.status in ("skipped", "failed", "rejected"):
            raise CommandError(f"not sent: {message.reason or message.status}")
