"""The console connector: the embedded default. It sends nothing: each message is written to the
log and counted as delivered to it, so a demo shows the whole life of a campaign."""

import logging

from django.utils.translation import gettext_lazy as _

from providers.base import Channel, CheckResult, DeliveryStatus, MessagingConnector, OutboundMessage, SendResult
from providers.sms import SmsAccountForm

logger = logging.getLogger("providers.console")


class ConsoleForm(SmsAccountForm):
    pass


class ConsoleConnector(MessagingConnector):
    name = "console"
    label = _("Console (writes messages to the log; sends nothing)")
    channel = Channel.SMS
    config_form = ConsoleForm
    max_batch = 1000
    idempotent = True
    nli = True

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        for message in messages:
            logger.info("console SMS %s from %s to %s: %s", message.key, message.sender, message.to, message.text)
        return [
            SendResult(key=m.key, status=DeliveryStatus.DELIVERED, provider_id=m.key, raw_status="written to the log")
            for m in messages
        ]

    def test_connection(self) -> CheckResult:
        logger.info("console connector: connection test")
        return CheckResult(ok=True, message=str(_("The console connector is always reachable.")))
