"""The WhatsApp account's settings form (Connectors → WhatsApp; install_connector whatsapp --set …)."""

from __future__ import annotations

import re
import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v23.0"
DEFAULT_RATE = 80  # messages per second per number (§6.8)


def new_verify_token() -> str:
    """The token Meta echoes in the webhook handshake (pasted into Meta's app dashboard)."""
    return secrets.token_urlsafe(24)


class WhatsAppForm(forms.Form):
    base_url = forms.URLField(
        assume_scheme="https",
        label=_("Graph API base URL"),
        required=False,
        initial=DEFAULT_BASE_URL,
        help_text=_("Without the version; empty: https://graph.facebook.com."),
    )
    api_version = forms.CharField(
        label=_("Graph API version"), required=False, initial=DEFAULT_VERSION, max_length=10, help_text="e.g. v23.0"
    )
    waba_id = forms.CharField(label=_("WhatsApp Business account id (WABA id)"), max_length=40)
    phone_number_id = forms.CharField(label=_("Phone number id"), max_length=40)
    display_number = forms.CharField(
        label=_("Display number"),
        required=False,
        max_length=20,
        help_text=_("The number people see, e.g. +908501234567."),
    )
    rate_limit = forms.IntegerField(
        label=_("Rate limit (messages per second)"),
        min_value=1,
        max_value=1000,
        required=False,
        initial=DEFAULT_RATE,
        help_text=_("Meta allows 80 per second per number by default (up to 1,000 after an upgrade)."),
    )
    price_marketing = forms.DecimalField(
        label=_("Price per marketing message"), required=False, min_value=0, max_digits=10, decimal_places=5
    )
    price_utility = forms.DecimalField(
        label=_("Price per utility message"), required=False, min_value=0, max_digits=10, decimal_places=5
    )
    price_authentication = forms.DecimalField(
        label=_("Price per authentication message"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=5,
        help_text=_("Meta's rate for your recipients' country, in your currency; used for the cost estimates."),
    )
    access_token = forms.CharField(
        label=_("Access token"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("A system-user token with whatsapp_business_messaging and whatsapp_business_management."),
    )
    app_secret = forms.CharField(
        label=_("App secret"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("From the Meta app's basic settings; it signs the webhooks Meta sends us."),
    )
    app_id = forms.CharField(
        label=_("Meta app id"),
        required=False,
        max_length=40,
        help_text=_("The Meta app's id, needed to submit templates with a picture, video or document."),
    )
    verify_token = forms.CharField(
        label=_("Webhook verify token"),
        required=False,
        max_length=100,
        help_text=_("Paste it into Meta's app dashboard with the callback URL; empty: a new one is made."),
    )

    def clean_base_url(self):
        return (self.cleaned_data.get("base_url") or DEFAULT_BASE_URL).rstrip("/")

    def clean_api_version(self):
        version = (self.cleaned_data.get("api_version") or DEFAULT_VERSION).strip()
        if not re.fullmatch(r"v\d{1,3}\.\d{1,2}", version):
            raise forms.ValidationError(_("The version looks like v23.0."))
        return version

    def _clean_id(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if not value.isdigit():
            raise forms.ValidationError(_("Meta's ids are digits only (copy it from WhatsApp Manager)."))
        return value

    def clean_waba_id(self):
        return self._clean_id("waba_id")

    def clean_phone_number_id(self):
        return self._clean_id("phone_number_id")

    def clean_app_id(self):
        value = (self.cleaned_data.get("app_id") or "").strip()
        if value and not value.isdigit():
            raise forms.ValidationError(_("The app id is digits only (copy it from the Meta app's basic settings)."))
        return value

    def clean_rate_limit(self):
        value = self.cleaned_data.get("rate_limit")
        return DEFAULT_RATE if value is None else value

    def clean_verify_token(self):
        return (self.cleaned_data.get("verify_token") or "").strip() or new_verify_token()
