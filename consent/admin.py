"""Consent screens: the current consents and their history, read-only (changes go through the
ledger service); the history also shows inline on a contact's page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.contact_changes import subscription_change, whatsapp_consent_change
from consent.iys.status import iys_status
from consent.models import (
    BackfillState,
    Consent,
    ConsentChange,
    ConsentSource,
    IysBackfill,
    IysSubmission,
    RecipientType,
    SubmissionState,
)
from consent.rules import WHATSAPP_SOURCES
from consent.selectors import IysGate, iys_gate
from contacts.admin_inlines import LatestRowsInline
from contacts.models import Contact, SmsSubscription, WhatsAppConsent
from contacts.parsers import Rejection
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

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("per-day.json", view(self.per_day_view), name="consent_consentchange_per_day"),
            *super().get_urls(),
        ]

    def per_day_view(self, request):
        """The dashboard's consent growth: ONAY and RET recorded per day (consent.charts)."""
        from consent.charts import consent_changes_per_day

        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(consent_changes_per_day().as_dict())


class ConsentHistoryInline(LatestRowsInline):
    """On the contact's page: its newest consent changes, and a link to all of them in the history."""

    model = ConsentChange
    fk_name = "contact"
    verbose_name_plural = _("consent history")
    fields = HISTORY_COLUMNS
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    changelist = "admin:consent_consentchange_changelist"
    all_rows_label = _("All %(count)s consent changes")


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
        # this view replaces the admin's changelist, so it checks what that one would
        if not self.has_view_permission(request):
            raise PermissionDenied
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


class SubscriptionChangeForm(forms.Form):
    """The evidence a subscription change needs: it is a MESAJ consent change (product.md)."""

    subscribed = forms.TypedChoiceField(
        label=_("SMS subscription"),
        choices=[("1", _("Subscribed (ONAY)")), ("0", _("Not subscribed (RET)"))],
        coerce=lambda value: value == "1",
    )
    source = forms.ChoiceField(
        label=_("Where the consent was collected"),
        choices=[(value, f"{label} ({value})") for value, label in ConsentSource.choices if value.startswith("HS_")],
        help_text=_("The evidence İYS asks for. HS_KARAR (the brand's decision) is for RET only."),
    )
    consent_date = forms.DateTimeField(
        label=_("Consent date"),
        help_text=_("When the recipient gave or withdrew consent (Europe/Istanbul), not in the future."),
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"],
    )
    recipient_type = forms.ChoiceField(label=_("Recipient type"), choices=RecipientType.choices)


class WhatsAppConsentChangeForm(forms.Form):
    """The evidence a WhatsApp consent change needs (product.md WhatsApp consent: the contact page)."""

    opt_in = forms.TypedChoiceField(
        label=_("WhatsApp consent"),
        choices=[("1", _("Opt-in (ONAY)")), ("0", _("Opt-out (RET)"))],
        coerce=lambda value: value == "1",
    )
    source = forms.ChoiceField(
        label=_("Where the consent was collected"),
        choices=[
            (value, f"{label} ({value})")
            for value, label in ConsentSource.choices
            if value in WHATSAPP_SOURCES and value != ConsentSource.NOT_STATED
        ],
        help_text=_("HS_KARAR (the brand's decision) is for opt-out only. WhatsApp consent is never sent to İYS."),
    )
    consent_date = forms.DateTimeField(
        label=_("Consent date"),
        help_text=_("When the person opted in or out (Europe/Istanbul), not in the future."),
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"],
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=200,
        help_text=_("What proves it, e.g. 'signed form no. 1234 at the Kadıköy store' or 'e-mail of 3 March'."),
    )


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "type", "recipient_type", "status", "consent_date", "source", "contact", "updated_at"]
    list_filter = ["type", "status", "recipient_type", "source"]
    list_select_related = ["contact"]
    search_fields = ["recipient"]
    search_help_text = _("Exact phone (any format) or email.")
    raw_id_fields = ["contact"]

    def get_urls(self):
        return [
            path(
                "subscription/<int:contact_id>/",
                self.admin_site.admin_view(self.subscription_view),
                name="consent_subscription_change",
            ),
            path(
                "whatsapp/<int:contact_id>/",
                self.admin_site.admin_view(self.whatsapp_view),
                name="consent_whatsapp_change",
            ),
        ] + super().get_urls()

    def whatsapp_view(self, request, contact_id):
        def done(contact):
            return _("Recorded in the consent ledger; the contact's WhatsApp consent follows it.")

        return self._change_view(
            request,
            contact_id,
            form_class=WhatsAppConsentChangeForm,
            initial=lambda c: {"opt_in": "0" if c.whatsapp_consent == WhatsAppConsent.OPT_IN else "1"},
            apply=whatsapp_consent_change,
            done=done,
            title=_("Change the WhatsApp consent of %(contact)s"),
            template="admin/consent/whatsapp_change.html",
        )

    def subscription_view(self, request, contact_id):
        def done(contact):
            if contact.phone.startswith("+90") and iys_gate() == IysGate.SYNC:
                return _(
                    "Recorded in the consent ledger and queued for İYS (Sync mode); the SMS subscription follows it."
                )
            return _("Recorded in the consent ledger; the SMS subscription follows it.")

        return self._change_view(
            request,
            contact_id,
            form_class=SubscriptionChangeForm,
            initial=lambda c: {"subscribed": "0" if c.sms_subscription == SmsSubscription.SUBSCRIBED else "1"},
            apply=subscription_change,
            done=done,
            title=_("Change the SMS subscription of %(contact)s"),
            template="admin/consent/subscription_change.html",
        )

    def _change_view(self, request, contact_id, *, form_class, initial, apply, done, title, template):
        """A consent change from the contact's page, with its evidence, through the ledger."""
        if not request.user.has_perm("consent.add_consentchange"):
            raise PermissionDenied
        contact = get_object_or_404(Contact, pk=contact_id)
        defaults = {
            **initial(contact),
            "consent_date": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "source": ConsentSource.HS_WEB,
        }
        form = form_class(request.POST or None, initial=defaults)
        if request.method == "POST" and form.is_valid():
            result = apply(contact=contact, acting_user=request.user, **form.cleaned_data)
            if isinstance(result, Rejection):
                form.add_error(None, result.reason)
            else:
                if result == "unchanged":
                    text = _("Nothing changed: the ledger already holds this status, or a later consent date.")
                    self.message_user(request, text, messages.WARNING)
                else:
                    self.message_user(request, done(contact), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:contacts_contact_change", args=[contact.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": title % {"contact": contact},
            "opts": Contact._meta,
            "original": contact,
            "form": form,
        }
        return TemplateResponse(request, template, context)
