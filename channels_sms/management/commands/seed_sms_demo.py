"""`python manage.py seed_sms_demo`: a console SMS account and a template, so a campaign can be
tried at once on the embedded default (nothing leaves the machine). Idempotent; run by `make run`."""

from django.core.management.base import BaseCommand

from channels_sms.models import SmsTemplate
from providers.models import ProviderAccount
from providers.services import account_install


class Command(BaseCommand):
    help = "Install a console SMS account and a demo template if there is none."

    def handle(self, *args, **options):
        if not ProviderAccount.objects.filter(channel="sms").exists():
            account_install(name="Console (demo)", connector="console", values={"sender": "DEMO", "rate_limit": 50})
            self.stdout.write("installed the console SMS account 'Console (demo)'")
        SmsTemplate.objects.get_or_create(
            name="Demo: weekend offer",
            defaults={
                "text": "Merhaba {{name|Müşterimiz}}, {{city}} mağazamızda hafta sonu %20 indirim!",
                "sender": "DEMO",
            },
        )
