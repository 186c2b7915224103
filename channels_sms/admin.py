"""Settings → Channels → SMS: templates with a live segment counter, campaigns with a preview,
actions and statistics, and the message history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from channels_sms.encoding import PROFILES, count_segments
from channels_sms.forms import CampaignForm, SendForm
from channels_sms.models import Campaign, CampaignStatus, Message, MessageStatus, SmsTemplate
from channels_sms.selectors import campaign_preview, campaign_statistics
from channels_sms.services import (
    CampaignError,
    campaign_cancel,
    campaign_log_transactional,
    campaign_pause,
    campaign_record_kind,
    campaign_resume,
    campaign_start,
    message_send,
)
from consent.admin import ReadOnlyAdmin
from contacts.admin import CheapPaginator
from providers.models import ProviderAccount


def counter_json(request):
    """The editor's live counter: the same function the dispatcher uses (providers.md §7)."""
    profile = request.GET.get("profile", "nli")
    if profile not in PROFILES:
        profile = "nli"
    return JsonResponse(count_segments(request.GET.get("text", ""), profile=profile).as_dict())


class CounterMixin:
    @admin.display(description=_("Length"))
    def counter(self, obj):
        text = (obj.body if isinstance(obj, Campaign) else obj.text) if obj else ""
        initial = count_segments(text)
        return format_html(
            '<div class="sms-counter" data-url="{}" data-for="id_text">{} · {} · {}</div>',
            reverse("admin:channels_sms_counter"),
            initial.encoding,
            _("%(n)d characters") % {"n": initial.characters},
            _("%(n)d segment(s)") % {"n": initial.segments},
        )


@admin.register(SmsTemplate)
class SmsTemplateAdmin(CounterMixin, admin.ModelAdmin):
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


@admin.register(Campaign)
class CampaignAdmin(CounterMixin, admin.ModelAdmin):
    form = CampaignForm
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
    autocomplete_fields = []
    readonly_fields = [
        "status",
        "message_count",
        "started_at",
        "finished_at",
        "statistics",
        "counter",
        "transactional_chosen",
    ]

    class Media:
        js = ["channels_sms/counter.js"]
        css = {"all": ["channels_sms/sms.css"]}

    def get_fieldsets(self, request, obj=None):
        sets = [
            (None, {"fields": ["name", "kind", "transactional_chosen", "account", "sender"]}),
            (_("Message"), {"fields": ["template", "text", "counter"]}),
            (_("Audience"), {"fields": ["audience", "contact_list", "audience_filter", "alert_phone"]}),
            (_("When"), {"fields": ["send_at"]}),
        ]
        if obj and obj.status != CampaignStatus.DRAFT:
            sets.append(
                (_("Progress"), {"fields": ["status", "message_count", "started_at", "finished_at", "statistics"]})
            )
        return sets

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.status != CampaignStatus.DRAFT:  # what was sent is not rewritten afterwards
            return [*CampaignForm.Meta.fields, *self.readonly_fields]
        return self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.acting_user = request.user  # a class made for this request: the kind's permission check
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        kind_changed = not change or "kind" in form.changed_data
        campaign_record_kind(campaign=obj, acting_user=request.user, kind_changed=kind_changed)
        super().save_model(request, obj, form, change)
        if kind_changed:
            campaign_log_transactional(campaign=obj, acting_user=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("Saved. Check the preview, then send or schedule it."))
        return HttpResponseRedirect(reverse("admin:channels_sms_campaign_preview", args=[obj.pk]))

    @admin.display(description=_("Transactional chosen by"))
    def transactional_chosen(self, obj):
        if not obj or not obj.transactional_chosen_at:
            return "-"
        return f"{obj.transactional_chosen_by_name} · {localtime(obj.transactional_chosen_at):%Y-%m-%d %H:%M}"

    @admin.display(description=_("Statistics"))
    def statistics(self, obj):
        from django.template.loader import render_to_string

        return render_to_string("admin/channels_sms/statistics.html", {"stats": campaign_statistics(obj)})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="channels_sms_campaign_preview"),
            path("<int:pk>/act/<str:action>/", view(self.action_view), name="channels_sms_campaign_act"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        campaign = get_object_or_404(Campaign.objects.select_related("account", "template", "contact_list"), pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        test_form = SendForm(initial={"kind": campaign.kind, "text": campaign.body}, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "campaign": campaign,
            "preview": campaign_preview(campaign),
            "stats": campaign_statistics(campaign) if campaign.status != CampaignStatus.DRAFT else None,
            "test_form": test_form,
            "can_change": self.has_change_permission(request, campaign),
            "title": _("Preview: %(name)s") % {"name": campaign.name},
        }
        return TemplateResponse(request, "admin/channels_sms/preview.html", context)

    def action_view(self, request, pk, action):
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:channels_sms_campaign_preview", args=[pk]))
        try:
            if action == "start":
                campaign = campaign_start(campaign_id=pk, acting_user=request.user)
                if campaign.status == CampaignStatus.SCHEDULED:
                    self.message_user(request, _("Scheduled for %(when)s.") % {"when": campaign.send_at})
                else:
                    self.message_user(request, _("Sending started: %(n)d messages.") % {"n": campaign.message_count})
            elif action == "pause":
                campaign_pause(campaign_id=pk)
                self.message_user(request, _("Paused. Messages already with the provider are not recalled."))
            elif action == "resume":
                campaign_resume(campaign_id=pk)
                self.message_user(request, _("Sending again."))
            elif action == "cancel":
                campaign_cancel(campaign_id=pk)
                self.message_user(request, _("Cancelled. Messages not yet sent will not be sent."))
            elif action == "test":
                form = SendForm(request.POST, user=request.user)
                if not form.is_valid():
                    self.message_user(request, _("Test send: %(e)s") % {"e": form.errors.as_text()}, messages.ERROR)
                    return back
                message = message_send(
                    to=form.cleaned_data["to"],
                    text=form.cleaned_data["text"],
                    kind=form.cleaned_data["kind"],
                    account=campaign.account,
                    sender=campaign.sender,
                    acting_user=request.user,
                )
                level = messages.SUCCESS if message.status not in ("skipped", "failed", "rejected") else messages.ERROR
                self.message_user(
                    request,
                    _("Test send to %(to)s: %(status)s %(reason)s")
                    % {"to": message.to, "status": message.get_status_display(), "reason": message.reason},
                    level,
                )
            else:
                raise Http404
        except (CampaignError, ValidationError) as exc:
            self.message_user(request, "; ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
        return back


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Message History: every message, filterable; nothing here can be edited."""

    recipient_lookup = "to"
    list_display = [
        "id",
        "created_at",
        "to",
        "channel",
        "kind",
        "campaign",
        "status",
        "raw_status",
        "segments",
        "reason",
    ]
    list_filter = ["status", "kind", "channel", "account", "created_at"]
    list_select_related = ["campaign"]
    search_fields = ["to"]
    search_help_text = _("Exact phone number (any format).")
    paginator = CheapPaginator
    list_per_page = 100
    date_hierarchy = None
    readonly_fields = [f.name for f in Message._meta.fields if f.name not in ("claim", "next_attempt_at")]
    exclude = ["claim", "next_attempt_at", "claimed_at", "handed_at"]


class ContactMessagesInline(admin.TabularInline):
    """On the contact's page: the messages sent to it, newest first."""

    model = Message
    fk_name = "contact"
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("messages")
    fields = ["created_at", "channel", "kind", "campaign", "status", "raw_status", "reason"]
    readonly_fields = fields
    ordering = ["-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
