"""Consent screens: the current consents and their history, read-only (changes go through the
ledger service); the history also shows inline on a contact's page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.iys.status import iys_status
from consent.models import BackfillState, Consent, ConsentChange, IysBackfill, IysSubmission, SubmissionState
from contacts.phones import to_e164


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False
    recipient_lookup = "recipient"  # exact match on the phone (any format) or email typed

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(**{f"{self.recipient_lookup}__in": {term.lower(), to_e164(term) or term}}), False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "type", "recipient_type", "status", "consent_date", "source", "contact", "updated_at"]
    list_filter = ["type", "status", "recipient_type", "source"]
    list_select_related = ["contact"]
    search_fields = ["recipient"]
    search_help_text = _("Exact phone (any format) or email.")
    raw_id_fields = ["contact"]


# What a history row shows, in the history list and inline on a contact's page.
HISTORY_COLUMNS = [
    "created_at",
    "type",
    "previous_status",
    "status",
    "consent_date",
    "source",
    "origin",
    "origin_ref",
    "acting_username",
]


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", *HISTORY_COLUMNS[1:]]
    list_filter = ["origin", "type", "status", "source"]
    search_fields = ["recipient"]
    search_help_text = _("Exact phone (any format) or email.")
    raw_id_fields = ["contact", "consent", "file_transfer", "acting_user"]


class ConsentHistoryInline(admin.TabularInline):
    """On the contact's page: its consent history, newest first."""

    model = ConsentChange
    fk_name = "contact"
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("consent history")
    fields = HISTORY_COLUMNS
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IysSubmission)
class IysSubmissionAdmin(ReadOnlyAdmin):
    """İYS submissions: filterable by state and H-code, with a retry action for failures İYS may
    accept on another try."""

    list_display = [
        "change_recipient",
        "change_status",
        "state",
        "deadline",
        "attempts",
        "error_code",
        "error_message",
        "skip_reason",
        "transaction_id",
        "updated_at",
    ]
    list_filter = ["state", "error_code"]
    list_select_related = ["change"]
    search_fields = ["change__recipient"]
    actions = ["retry_now"]
    ordering = ["deadline", "pk"]
    recipient_lookup = "change__recipient"

    @admin.display(description=_("recipient"))
    def change_recipient(self, obj):
        return obj.change.recipient

    @admin.display(description=_("status"))
    def change_status(self, obj):
        return obj.change.status

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("consent.change_iyssubmission")

    @admin.action(description=_("Retry now (retrying ones)"), permissions=["change"])
    def retry_now(self, request, queryset):
        retried = queryset.filter(Q(state=SubmissionState.RETRYING)).update(next_attempt_at=timezone.now(), claim=None)
        skipped = queryset.count() - retried
        self.message_user(request, _("%(n)d queued for the next push.") % {"n": retried}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                _(
                    "%(n)d were not retrying (confirmed, rejected by İYS, skipped or in "
                    "flight) and were left as they are."
                )
                % {"n": skipped},
                messages.WARNING,
            )


@admin.register(IysBackfill)
class IysStatusAdmin(admin.ModelAdmin):
    """The İYS status page: backlog, the oldest open deadline, overdue changes, last pull, errors by
    H-code and the backfill's progress; an admin may start a scheduled backfill at once."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("consent.change_iysbackfill")

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "start_now" in request.POST:
            if not self.has_change_permission(request):
                raise PermissionDenied
            started = IysBackfill.objects.filter(
                pk=request.POST.get("start_now"), state=BackfillState.SCHEDULED
            ).update(starts_at=timezone.now())
            if started:
                self.message_user(
                    request, _("The backfill starts within five minutes (the next run of its task)."), messages.SUCCESS
                )
            return HttpResponseRedirect(request.path)
        status = iys_status()
        context = {
            **self.admin_site.each_context(request),
            "title": _("İYS status"),
            "opts": self.model._meta,
            "status": status,
            "now": timezone.now(),
            "can_start": self.has_change_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/consent/iys_status.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:consent_iysbackfill_changelist"))
