"""Form parts every channel's campaign form shares: when to send (Istanbul time, never in the
past) and an audience with no default whose fields follow the choice."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from messaging.models import Audience

# the fields each audience uses; the others are emptied on save (and hidden by messaging/audience.js)
AUDIENCE_FIELDS = {
    Audience.EVERYONE: (),
    Audience.LIST: ("contact_list",),
    Audience.SEGMENT: ("segment",),
    Audience.FILTER: ("audience_filter",),
    Audience.ALERT: ("alert_phone",),
}
AUDIENCE_EMPTY = {"contact_list": None, "segment": None, "audience_filter": {}, "alert_phone": ""}


def istanbul(moment: datetime | None) -> str:
    """A moment as the panel says it everywhere: "2026-12-03 10:00 (Europe/Istanbul)"."""
    if moment is None:
        return ""
    return f"{date_format(timezone.localtime(moment), 'Y-m-d H:i')} ({timezone.get_current_timezone_name()})"


def send_at_field() -> forms.DateTimeField:
    """When to send, typed as Istanbul time; empty: as soon as the campaign is started."""
    return forms.DateTimeField(
        label=_("Send at"),
        required=False,
        input_formats=["%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(format="%Y-%m-%d %H:%M", attrs={"placeholder": "YYYY-MM-DD HH:mm"}),
        help_text=_("Europe/Istanbul time, YYYY-MM-DD HH:mm. Empty: send as soon as you start it."),
    )


class CampaignFormParts:
    """Mixed into a channel's campaign ModelForm (before forms.ModelForm)."""

    def setup_audience(self, *, without: tuple[str, ...] = ()) -> None:
        """A new campaign's audience is chosen, never assumed ("Every contact" is one choice)."""
        field = self.fields.get("audience")
        if field is None:
            return
        if self.instance.audience != Audience.FILTER:  # filters were replaced by segments
            without = (*without, Audience.FILTER)
        field.choices = [("", "---------"), *(c for c in Audience.choices if c[0] not in without)]
        field.required = True
        if self.instance._state.adding and not self.is_bound:
            self.initial["audience"] = ""
        field.widget.attrs["data-audience-fields"] = "1"  # messaging/audience.js shows the chosen one's fields

    def clean_send_at(self):
        value = self.cleaned_data.get("send_at")
        if value and "send_at" in self.changed_data and value <= timezone.now():
            message = gettext(
                "%(when)s has passed (it is now %(now)s). Choose a later time, or leave it empty to send "
                "as soon as you start it."
            )
            raise forms.ValidationError(message % {"when": istanbul(value), "now": istanbul(timezone.now())})
        return value

    def drop_other_audiences(self, cleaned: dict) -> None:
        """What belongs to an audience not chosen is emptied, so nothing hidden selects anyone."""
        chosen = set(AUDIENCE_FIELDS.get(cleaned.get("audience"), ()))
        for name, empty in AUDIENCE_EMPTY.items():
            if name in self.fields and name not in chosen:
                cleaned[name] = empty
                self._errors.pop(name, None)
