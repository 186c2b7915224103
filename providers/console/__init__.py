"""The console connector: the embedded default. It sends nothing; it writes to the log."""

import logging

from django import forms
from django.utils.translation import gettext_lazy as _

from providers.base import Channel, CheckResult, Connector

logger = logging.getLogger("providers.console")


class ConsoleForm(forms.Form):
    sender = forms.CharField(
        label=_("Default sender name"), max_length=11, required=False, help_text=_("At most 11 characters.")
    )


class ConsoleConnector(Connector):
    name = "console"
    label = _("Console (writes messages to the log; sends nothing)")
    channel = Channel.SMS
    config_form = ConsoleForm

    def test_connection(self) -> CheckResult:
        logger.info("console connector: connection test")
        return CheckResult(ok=True, message=str(_("The console connector is always reachable.")))
