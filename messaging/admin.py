"""The core's pages: Message History (every channel), the messages on a contact's page, and the
campaign page every channel's campaign admin is built on (preview, actions, statistics, who chose
transactional). A channel's admin adds its form and its test send (`test_send`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent.admin import ReadOnlyAdmin
from consent.selectors import Exclusion, audience_with_exclusions
from contacts.admin import CheapPaginator
from contacts.admin_inlines import LatestRowsInline
from messaging.admin_reports import CampaignReports, MessageHistoryReports
from messaging.forms import istanbul
from messaging.models import Audience, CampaignStatus, Message, MessageStatusEvent
from messaging.selectors import Preview, campaign_audience, campaign_preview, campaign_statistics
from messaging.services import (
    CampaignError,
    campaign_cancel,
    campaign_log_transactional,
    campaign_pause,
    campaign_record_kind,
    campaign_resume,
    campaign_start,
)


class CampaignAdminBase(CampaignReports, admin.ModelAdmin):
    """A channel's campaign admin (registered on its proxy): saving returns to the preview, from
    which the campaign is started, paused, resumed, cancelled or test-sent; its delivery chart and
    report come from CampaignReports."""

    preview_template = "admin/messaging/preview.html"
    confirm_template = "admin/messaging/confirm.html"
    excluded_template = "admin/messaging/excluded.html"
    readonly_fields = ["status", "message_count", "started_at", "finished_at", "statistics", "transactional_chosen"]
    editable_fields: list[str] = []  # the form's fields: read-only once the campaign has started

    class Media:
        js = ["messaging/audience.js"]
        css = {"all": ["messaging/campaign.css"]}

    def url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_readonly_fields(self, request, obj=None):
        if obj and obj.status != CampaignStatus.DRAFT:  # what was sent is not rewritten afterwards
            return [*self.editable_fields, *self.readonly_fields]
        return self.readonly_fields

    def audience_fields(self, obj, *extra: str) -> list[str]:
        """The audience part of the form; the JSON filter only on a campaign saved with one."""
        legacy = ["audience_filter"] if obj is not None and obj.audience == Audience.FILTER else []
        return ["audience", "contact_list", "segment", *legacy, *extra]

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

    def add_view(self, request, form_url="", extra_context=None):
        # saving a new campaign always leads to its preview: no "add another" or "continue editing"
        extra = {"show_save_and_add_another": False, "show_save_and_continue": False, **(extra_context or {})}
        return super().add_view(request, form_url, extra_context=extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"show_save_and_add_another": False, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("Saved. Check the preview, then send or schedule it."))
        return HttpResponseRedirect(reverse(f"admin:{self.url_name('preview')}", args=[obj.pk]))

    def response_change(self, request, obj):
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        self.message_user(request, _("Saved. Check the preview, then send or schedule it."))
        return HttpResponseRedirect(reverse(f"admin:{self.url_name('preview')}", args=[obj.pk]))

    @admin.display(description=_("Transactional chosen by"))
    def transactional_chosen(self, obj):
        if not obj or not obj.transactional_chosen_at:
            return "-"
        return f"{obj.transactional_chosen_by_name} · {localtime(obj.transactional_chosen_at):%Y-%m-%d %H:%M}"

    @admin.display(description=_("Statistics"))
    def statistics(self, obj):
        context = {"stats": campaign_statistics(obj), "currency": settings.CURRENCY}
        return render_to_string("admin/messaging/statistics.html", context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name=self.url_name("preview")),
            path("<int:pk>/confirm/", view(self.confirm_view), name=self.url_name("confirm")),
            path("<int:pk>/excluded/<str:reason>/", view(self.excluded_view), name=self.url_name("excluded")),
            path("<int:pk>/act/<str:action>/", view(self.action_view), name=self.url_name("act")),
            *super().get_urls(),
        ]

    def admin_urls(self) -> dict[str, str]:
        return {
            "changelist": f"admin:{self.url_name('changelist')}",
            "change": f"admin:{self.url_name('change')}",
            "act": f"admin:{self.url_name('act')}",
            "preview": f"admin:{self.url_name('preview')}",
            "confirm": f"admin:{self.url_name('confirm')}",
            "excluded": f"admin:{self.url_name('excluded')}",
            "delivery": f"admin:{self.url_name('delivery')}",
            "report": f"admin:{self.url_name('report')}",
        }

    def test_form(self, request, campaign, data=None):
        """The test-send form of the channel (None: the channel offers no test send here)."""
        return None

    def test_send(self, request, campaign, form) -> Message:
        raise NotImplementedError

    def campaign_for(self, request, pk, *, change: bool = False):
        campaign = get_object_or_404(self.get_queryset(request).select_related("account", "template"), pk=pk)
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request, campaign):
            raise PermissionDenied
        return campaign

    def page_context(self, request, campaign, title) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "admin_urls": self.admin_urls(),
            "campaign": campaign,
            "currency": settings.CURRENCY,
            "title": title,
        }

    def preview_view(self, request, pk):
        campaign = self.campaign_for(request, pk)
        context = {
            **self.page_context(request, campaign, _("Preview: %(name)s") % {"name": campaign.name}),
            "preview": campaign_preview(campaign),
            "send_at": istanbul(campaign.send_at),
            "stats": campaign_statistics(campaign) if campaign.status != CampaignStatus.DRAFT else None,
            "test_form": self.test_form(request, campaign),
            "can_change": self.has_change_permission(request, campaign),
            "can_export": request.user.has_perm("messaging.view_message"),
            "delivery_chart": {
                "key": "campaign-delivery",
                "title": _("Delivery over time"),
                "url": reverse(f"admin:{self.url_name('delivery')}", args=[campaign.pk]),
                "caption": _("Each hour: messages accepted by the provider, delivered, read and failed."),
            },
        }
        return TemplateResponse(request, self.preview_template, context)

    def confirm_view(self, request, pk):
        """Before anything is sent: the numbers, in words, and one button that sends them."""
        campaign = self.campaign_for(request, pk, change=True)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            self.message_user(request, _("This campaign has already been started."), messages.WARNING)
            return HttpResponseRedirect(reverse(f"admin:{self.url_name('preview')}", args=[pk]))
        preview = campaign_preview(campaign)
        context = {
            **self.page_context(request, campaign, _("Confirm: %(name)s") % {"name": campaign.name}),
            "preview": preview,
            "question": confirmation_question(campaign, preview),
            "later": bool(campaign.send_at and campaign.send_at > timezone.now()),
            "passed": istanbul(campaign.send_at) if campaign.send_at and campaign.send_at <= timezone.now() else "",
            "send_at": istanbul(campaign.send_at),
        }
        return TemplateResponse(request, self.confirm_template, context)

    def excluded_view(self, request, pk, reason):
        """The contacts of the audience the sending rule excludes for `reason`, to check them."""
        campaign = self.campaign_for(request, pk)
        labels = dict(Exclusion.choices)
        if reason not in labels:
            raise Http404
        contacts = (
            audience_with_exclusions(campaign_audience(campaign), kind=campaign.kind, channel=campaign.channel)
            .filter(exclusion=reason)
            .order_by("pk")
        )
        page = Paginator(contacts, 100).get_page(request.GET.get("page"))
        context = {
            **self.page_context(request, campaign, _("Excluded: %(reason)s") % {"reason": labels[reason]}),
            "reason": reason,
            "page": page,
            "contact_url": "admin:contacts_contact_change",
        }
        return TemplateResponse(request, self.excluded_template, context)

    def action_view(self, request, pk, action):
        campaign = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse(f"admin:{self.url_name('preview')}", args=[pk]))
        try:
            if action == "start" and "confirmed" not in request.POST:  # the numbers are seen first
                return HttpResponseRedirect(reverse(f"admin:{self.url_name('confirm')}", args=[pk]))
            if action == "start":
                campaign = campaign_start(campaign_id=pk, acting_user=request.user)
                if campaign.status == CampaignStatus.SCHEDULED:
                    self.message_user(request, _("Scheduled for %(when)s.") % {"when": istanbul(campaign.send_at)})
                else:
                    self.message_user(request, started_note(campaign, request.POST.get("confirmed")))
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


def grouped(value, decimals: int | None = None) -> str:
    """A number as the user's language writes it: 200,142 / 200.142; 50,035.50 / 50.035,50."""
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def confirmation_question(campaign, preview: Preview) -> str:
    """ "Send to 200,142 contacts, about 220,000 segments, cost ≈ 50,035.50 TRY?" """
    figures = {
        "contacts": grouped(preview.sendable),
        "units": grouped(preview.estimated_units),
        "unit_label": preview.cost.unit_label,
        "cost": "" if preview.estimated_cost is None else grouped(preview.estimated_cost, 2),
        "currency": settings.CURRENCY,
        "when": istanbul(campaign.send_at),
    }
    later = campaign.send_at and campaign.send_at > timezone.now()
    if preview.estimated_cost is None:
        figures["cost_words"] = gettext("cost unknown (%(why)s)") % {"why": preview.cost.no_price}
    else:
        figures["cost_words"] = gettext("cost ≈ %(cost)s %(currency)s") % figures
    if later:
        return (
            gettext("Schedule for %(when)s to %(contacts)s contacts, about %(units)s %(unit_label)s, %(cost_words)s?")
            % figures
        )
    return gettext("Send to %(contacts)s contacts, about %(units)s %(unit_label)s, %(cost_words)s?") % figures


def started_note(campaign, confirmed: str | None) -> str:
    note = gettext("Sending started: %(n)s messages.") % {"n": grouped(campaign.message_count)}
    if confirmed and confirmed.isdigit() and int(confirmed) != campaign.message_count:
        note += " " + gettext("(%(confirmed)s when you confirmed: the audience or the consents changed since.)") % {
            "confirmed": grouped(int(confirmed))
        }
    return note


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
class MessageAdmin(MessageHistoryReports, ReadOnlyAdmin):
    """Message History: every message of every channel, filterable, downloadable as filtered
    (MessageHistoryReports); nothing here can be edited."""

    change_list_template = "messaging/message_change_list.html"
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


class ContactMessagesInline(LatestRowsInline):
    """On the contact's page: its newest messages (the message_contact_created index, as the
    timeline reads them), and a link to all of them in Message History."""

    model = Message
    fk_name = "contact"
    verbose_name_plural = _("messages")
    fields = ["created_at", "channel", "kind", "campaign", "status", "raw_status", "reason"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    changelist = "admin:messaging_message_changelist"
    all_rows_label = _("All %(count)s messages")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("campaign")  # its name in every row


from messaging import admin_policy, admin_segments  # noqa: E402,F401  (register Sending policy, Segments)
