"""Form parts every channel's campaign form shares."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


def send_at_field() -> forms.DateTimeField:
    """When to send, typed as Istanbul time; empty: as soon as the campaign is started."""
    return forms.DateTimeField(
        label=_("Send at"),
        required=False,
        input_formats=["%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(format="%Y-%m-%d %H:%M", attrs={"placeholder": "YYYY-MM-DD HH:mm"}),
        help_text=_("Europe/Istanbul time, YYYY-MM-DD HH:mm. Empty: send as soon as you start it."),
    )
