"""The core's pages: Message History (every channel), the messages on a contact's page, and the
campaign page every channel's campaign admin is built on (preview, actions, statistics, who chose
transactional). A channel's admin adds its form and its test send (`test_send`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from consent.admin import ReadOnlyAdmin
from contacts.admin import CheapPaginator
from messaging.models import CampaignStatus, Message, MessageStatusEvent
from messaging.selectors import campaign_preview, campaign_statistics
from messaging.services import (
    CampaignError,
    campaign_cancel,
    campaign_log_transactional,
    campaign_pause,
    campaign_record_kind,
    campaign_resume,
    campaign_start,
)


class CampaignAdminBase(admin.ModelAdmin):
    """A channel's campaign admin (registered on its proxy): saving returns to the preview, from
    which the campaign is started, paused, resumed, cancelled or test-sent."""

    preview_template = "admin/messaging/preview.html"
    readonly_fields = ["status", "message_count", "started_at", "finished_at", "statistics", "transactional_chosen"]
    editable_fields: list[str] = []  # the form's fields: read-only once the campaign has started

    def url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.status != CampaignStatus.DRAFT:  # what was sent is not rewritten afterwards
            return [*self.editable_fields, *self.readonly_fields]
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
        return HttpResponseRedirect(reverse(f"admin:{self.url_name('preview')}", args=[obj.pk]))

    @admin.display(description=_("Transactional chosen by"))
    def transactional_chosen(self, obj):
        if not obj or not obj.transactional_chosen_at:
            return "-"
        return f"{obj.transactional_chosen_by_name} · {localtime(obj.transactional_chosen_at):%Y-%m-%d %H:%M}"

    @admin.display(description=_("Statistics"))
    def statistics(self, obj):
        return render_to_string("admin/messaging/statistics.html", {"stats": campaign_statistics(obj)})

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name=self.url_name("preview")),
            path("<int:pk>/act/<str:action>/", view(self.action_view), name=self.url_name("act")),
            *super().get_urls(),
        ]

    def admin_urls(self) -> dict[str, str]:
        return {
            "changelist": f"admin:{self.url_name('changelist')}",
            "change": f"admin:{self.url_name('change')}",
            "act": f"admin:{self.url_name('act')}",
        }

    def test_form(self, request, campaign, data=None):
        """The test-send form of the channel (None: the channel offers no test send here)."""
        return None

    def test_send(self, request, campaign, form) -> Message:
        raise NotImplementedError

    def preview_view(self, request, pk):
        campaign = get_object_or_404(self.get_queryset(request).select_related("account", "template"), pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "admin_urls": self.admin_urls(),
            "campaign": campaign,
            "preview": campaign_preview(campaign),
            "stats": campaign_statistics(campaign) if campaign.status != CampaignStatus.DRAFT else None,
            "test_form": self.test_form(request, campaign),
            "can_change": self.has_change_permission(request, campaign),
            "title": _("Preview: %(name)s") % {"name": campaign.name},
        }
        return TemplateResponse(request, self.preview_template, context)

    def action_view(self, request, pk, action):
        campaign = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse(f"admin:{self.url_name('preview')}", args=[pk]))
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
            elif action == "test" and (form := self.test_form(request, campaign, data=request.POST)) is not None:
                if not form.is_valid():
                    self.message_user(request, _("Test send: %(e)s") % {"e": form.errors.as_text()}, messages.ERROR)
                    return back
                message = self.test_send(request, campaign, form)
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


class StatusHistoryInline(admin.TabularInline):
    """On a message's page: each status it moved to, with the provider's word for it."""

    model = MessageStatusEvent
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["at", "status", "raw_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """Message History: every message of every channel, filterable; nothing here can be edited."""

    inlines = [StatusHistoryInline]

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
