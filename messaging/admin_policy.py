"""Settings → Sending policy: the one row of the frequency cap and quiet hours (messaging.policy)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from messaging.models import SendingPolicy


class SendingPolicyForm(forms.ModelForm):
    class Meta:
        model = SendingPolicy
        fields = ["newsletters_per_day", "newsletters_per_week", "quiet_from", "quiet_until"]
        widgets = {"quiet_from": forms.TimeInput(format="%H:%M"), "quiet_until": forms.TimeInput(format="%H:%M")}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("quiet_from"), cleaned.get("quiet_until")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both ends of the quiet hours, or neither."))
        if start is not None and start == end:
            raise forms.ValidationError(_("The quiet hours start and end at the same time."))
        day, week = cleaned.get("newsletters_per_day"), cleaned.get("newsletters_per_week")
        if day == 0 or week == 0:
            raise forms.ValidationError(_("A cap of 0 would send no newsletter at all: leave it empty for no cap."))
        if day and week and week < day:
            self.add_error("newsletters_per_week", _("The weekly cap is lower than the daily one."))
        return cleaned


@admin.register(SendingPolicy)
class SendingPolicyAdmin(admin.ModelAdmin):
    """One row, made when first opened: the list goes straight to it."""

    form = SendingPolicyForm
    fieldsets = [
        (_("Frequency cap (newsletters of campaigns and journeys, every channel)"),
         {"fields": ["newsletters_per_day", "newsletters_per_week"],
          "description": _("A newsletter over the cap is not sent: it is recorded as skipped with the reason. "
                           "Transactional messages are never capped; each one sent over it says so.")}),
        (_("Quiet hours (Europe/Istanbul)"),
         {"fields": ["quiet_from", "quiet_until"],
          "description": _("A newsletter due in quiet hours waits until they end. Transactional messages go at once; "
                           "each one sent in quiet hours says so.")}),
    ]  # fmt: skip

    def changelist_view(self, request, extra_context=None):
        row = SendingPolicy.objects.order_by("pk").first() or SendingPolicy.objects.create()
        return HttpResponseRedirect(reverse("admin:messaging_sendingpolicy_change", args=[row.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
