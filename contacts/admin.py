from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from contacts.models import Contact, ContactList
from contacts.phones import to_e164
from contacts.resources import ContactExportResource, ContactImportResource


class CheapPaginator(Paginator):
    """No full-table COUNT on a million contacts: counts only up to a cap."""

    cap = 10_000

    @cached_property
    def count(self):
        return len(self.object_list[: self.cap + 1].values_list("pk", flat=True))


@admin.register(Contact)
class ContactAdmin(ImportExportMixin, admin.ModelAdmin):
    formats = [CSV, XLSX]

    def get_inlines(self, request, obj):
        # other apps (consent history, later messages) contribute inlines without contacts importing them
        return [import_string(path) for path in settings.CONTACT_ADMIN_INLINES] if obj else []

    def get_import_resource_classes(self, request):
        return [ContactImportResource]

    def get_export_resource_classes(self, request):
        return [ContactExportResource]

    list_display = ["__str__", "phone", "email", "phone_status", "sms_subscription", "whatsapp_consent", "updated_at"]
    list_filter = ["phone_status", "sms_subscription", "whatsapp_consent"]
    search_fields = ["=external_id", "=email", "=phone", "=whatsapp_number"]
    search_help_text = _("Exact phone (any format), email or external id.")
    show_full_result_count = False
    paginator = CheapPaginator
    list_per_page = 50
    ordering = ["-pk"]
    # The SMS subscription is one view of the MESAJ consent, the WhatsApp consent fields one of the
    # WHATSAPP consent: both change through the consent ledger, never as bare fields of the form.
    readonly_fields = [
        "sms_subscription_with_link",
        "whatsapp_consent_with_link",
        "whatsapp_consent_at",
        "whatsapp_consent_source",
        "channel_details",
        "created_at",
        "updated_at",
    ]
    exclude = ["sms_subscription", "whatsapp_consent"]

    @admin.display(description=_("SMS subscription"))
    def sms_subscription_with_link(self, obj):
        return _with_evidence_link(obj.get_sms_subscription_display(), obj, obj.phone, "consent_subscription_change")

    @admin.display(description=_("WhatsApp consent"))
    def whatsapp_consent_with_link(self, obj):
        return _with_evidence_link(
            obj.get_whatsapp_consent_display(), obj, obj.whatsapp_number, "consent_whatsapp_change"
        )

    @admin.display(description=_("Channels"))
    def channel_details(self, obj):
        """What the channel apps know of the contact (settings.CONTACT_ADMIN_DETAILS: callables
        giving (label, value) pairs, e.g. the WhatsApp conversation window), one line each."""
        lines = [import_string(path)(obj) for path in settings.CONTACT_ADMIN_DETAILS] if obj and obj.pk else []
        lines = [line for line in lines if line]
        if not lines:
            return "-"
        return format_html_join(mark_safe("<br>"), "{}: {}", lines)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        phone = to_e164(term)
        condition = Q(external_id=term) | Q(email=term.lower())
        if phone:
            condition |= Q(phone=phone) | Q(whatsapp_number=phone)
        return queryset.filter(condition), False


def _with_evidence_link(value, obj, address, url_name: str):
    """The value, and a link to the consent app's page that changes it with its evidence (contacts
    does not import consent: without that app, just the value)."""
    if not obj.pk or not address:
        return value
    try:
        url = reverse(f"admin:{url_name}", args=[obj.pk])
    except NoReverseMatch:
        return value
    return format_html('{} · <a href="{}">{}</a>', value, url, _("Change (with its consent evidence)"))


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "created_by"]
    exclude = ["contacts"]


from contacts import admin_transfers  # noqa: E402,F401  (registers File Transfers)
