"""Settings → Channels → SMS: templates with a live segment counter and SMS campaigns (the core's
campaign page, messaging.admin, with the SMS form, counter and test send)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from channels_sms.counter import counter_json
from channels_sms.encoding import count_segments, encoding_label
from channels_sms.forms import CampaignForm, SendForm, TemplateForm
from channels_sms.models import SmsCampaign, SmsTemplate
from channels_sms.services import message_send
from messaging.admin import CampaignAdminBase
from messaging.models import Campaign, CampaignStatus, MessageStatus
from providers.models import ProviderAccount


class CounterMixin:
    @admin.display(description=_("Length"))
    def counter(self, obj):
        text = (obj.body if isinstance(obj, Campaign) else obj.text) if obj else ""
        initial = count_segments(text)
        return format_html(
            '<div class="sms-counter" data-url="{}" data-for="id_text">{} · {} · {}</div>',
            reverse("admin:channels_sms_counter"),
            encoding_label(initial.encoding),
            _("%(n)d characters") % {"n": initial.characters},
            _("%(n)d segment(s)") % {"n": initial.segments},
        )


@admin.register(SmsTemplate)
class SmsTemplateAdmin(CounterMixin, admin.ModelAdmin):
    form = TemplateForm
    list_display = ["name", "sender", "segments", "updated_at"]
    search_fields = ["name", "text"]
    fields = ["name", "sender", "text", "counter"]
    readonly_fields = ["counter"]

    class Media:
        js = ["channels_sms/counter.js"]
        css = {"all": ["channels_sms/sms.css"]}

    @admin.display(description=_("Segments"))
    def segments(self, obj):
        return count_segments(obj.text).segments

    def get_urls(self):
        return [
            path("counter.json", self.admin_site.admin_view(counter_json), name="channels_sms_counter"),
            *super().get_urls(),
        ]


@admin.register(SmsCampaign)
class SmsCampaignAdmin(CounterMixin, CampaignAdminBase):
    form = CampaignForm
    editable_fields = CampaignForm.Meta.fields
    list_display = [
        "name",
        "status",
        "kind",
        "audience",
        "account",
        "send_at",
        "message_count",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "audience", "account"]
    search_fields = ["name"]
    list_select_related = ["account"]
    readonly_fields = [*CampaignAdminBase.readonly_fields, "counter"]

    class Media:
        js = ["channels_sms/counter.js"]
        css = {"all": ["channels_sms/sms.css"]}

    def get_fieldsets(self, request, obj=None):
        sets = [
            (None, {"fields": ["name", "kind", "transactional_chosen", "account", "sender"]}),
            (_("Message"), {"fields": ["template", "text", "counter"]}),
            (_("Audience"), {"fields": self.audience_fields(obj, "alert_phone")}),
            (_("When"), {"fields": ["send_at"]}),
        ]
        if obj and obj.status != CampaignStatus.DRAFT:
            sets.append(
                (_("Progress"), {"fields": ["status", "message_count", "started_at", "finished_at", "statistics"]})
            )
        return sets

    def test_form(self, request, campaign, data=None):
        return SendForm(data, initial={"kind": campaign.kind, "text": campaign.body}, user=request.user)

    def test_send(self, request, campaign, form):
        return message_send(
            to=form.cleaned_data["to"],
            text=form.cleaned_data["text"],
            kind=form.cleaned_data["kind"],
            account=campaign.account,
            sender=campaign.sender,
            acting_user=request.user,
        )


def send_test_sms_view(request, account_id: int):
    """Connectors → an SMS account → Send test SMS (admins only)."""
    from django.contrib import admin as django_admin

    account = get_object_or_404(ProviderAccount, pk=account_id)
    if not request.user.has_perm("providers.change_provideraccount"):
        raise PermissionDenied
    form = SendForm(request.POST or None, initial={"text": "Test message from the panel"}, user=request.user)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = message_send(
                to=form.cleaned_data["to"],
                text=form.cleaned_data["text"],
                kind=form.cleaned_data["kind"],
                account=account,
                acting_user=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    context = {
        **django_admin.site.each_context(request),
        "opts": ProviderAccount._meta,
        "account": account,
        "form": form,
        "result": result,
        "final": MessageStatus,
        "title": _("Send a test SMS through %(name)s") % {"name": account.name},
    }
    return TemplateResponse(request, "admin/channels_sms/test_sms.html", context)
