"""The connector interface. Each provider is one module registered by name in registry.py;
nothing outside providers/ knows a provider's wire format (CONVENTIONS: connectors are plug-ins)."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Channel(TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    IYS = "iys", _("İYS (consent registry)")


class TransportError(Exception):
    """A provider call failed. `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


class Connector:
    """Subclass per provider. `config_form` lists every setting; `secret_fields` are the ones
    stored encrypted and never shown back."""

    name: str = ""
    label: str = ""
    channel: str = Channel.SMS
    config_form: type[forms.Form] = forms.Form
    secret_fields: tuple[str, ...] = ()

    def __init__(self, *, settings: dict, credentials: dict):
        self.settings = settings
        self.credentials = credentials

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.name}>"

    def test_connection(self) -> CheckResult:
        raise NotImplementedError
