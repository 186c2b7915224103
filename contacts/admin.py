from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from contacts.admin_import import GoodRowsImportMixin
from contacts.admin_lists import InListFilter, add_to_list, remove_from_list
from contacts.forms import ContactForm
from contacts.models import Contact
from contacts.resources import ContactExportResource, ContactImportResource
from contacts.selectors import contact_display_name, contact_search
from contacts.timeline import TIMELINE_STEP, contact_timeline


class CheapPaginator(Paginator):
    """No full-table COUNT on a million contacts: counts only up to a cap."""

    cap = 10_000

    @cached_property
    def count(self):
        return len(self.object_list[: self.cap + 1].values_list("pk", flat=True))


@admin.register(Contact)
class ContactAdmin(GoodRowsImportMixin, ImportExportMixin, admin.ModelAdmin):
    form = ContactForm
    formats = [CSV, XLSX]
    actions = [add_to_list, remove_from_list]

    class Media:
        css = {"all": ["contacts/contacts.css"]}

    def get_inlines(self, request, obj):
        # other apps (consent history, later messages) contribute inlines without contacts importing them
        return [import_string(path) for path in settings.CONTACT_ADMIN_INLINES] if obj else []

    def get_import_resource_classes(self, request):
        return [ContactImportResource]

    def get_export_resource_classes(self, request):
        return [ContactExportResource]

    def get_valid_export_item_pks(self, request):
        # An export of chosen contacts (export_items posted): import-export's default reads every
        # contact's id as a choice (a million on a big table) and warns it is deprecated; only the
        # posted ids the export's queryset holds can be valid.
        posted = [value for value in request.POST.getlist("export_items") if value.isdigit()]
        chosen = self.get_export_queryset(request).filter(pk__any_of=[int(v) for v in posted])
        return chosen.values_list("pk", flat=True)

    # what fits beside the navigation and the filters at 1366 px: the external id goes under the name
    list_display = [
        "name_cell",
        "phone",
        "email_cell",
        "phone_status",
        "sms_subscription",
        "whatsapp_consent",
        "updated_cell",
    ]
    list_filter = ["phone_status", "sms_subscription", "whatsapp_consent", InListFilter]
    search_fields = ["=external_id", "=email", "=phone", "=whatsapp_number"]
    search_help_text = _("Name, phone in any spelling (0532 123 45 67, +90 532…), email or external id.")
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

    @admin.display(description=_("name"))
    def name_cell(self, obj):
        name = contact_display_name(obj) or format_html('<span class="quiet">{}</span>', _("(no name)"))
        if not obj.external_id:
            return name
        return format_html('{}<br><span class="contact-external-id">{}</span>', name, obj.external_id)

    @admin.display(description=_("email"), ordering="email")
    def email_cell(self, obj):
        if not obj.email or "@" not in obj.email:
            return obj.email or "-"
        local, domain = obj.email.split("@", 1)
        return format_html("{}@<wbr>{}", local, domain)  # a long address breaks after the @

    @admin.display(description=_("updated"), ordering="updated_at")
    def updated_cell(self, obj):
        return date_format(localtime(obj.updated_at), "d.m.Y H:i")

    def get_search_results(self, request, queryset, search_term):
        return contact_search(queryset, search_term), False

    def has_lists_permission(self, request):
        return request.user.has_perm("contacts.change_contactlist")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["timeline"] = contact_timeline(contact=obj, limit=_timeline_limit(request))
            more = request.GET.copy()
            more["timeline"] = context["timeline"].limit + TIMELINE_STEP
            context["timeline_more_url"] = f"?{more.urlencode()}#timeline"
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def _timeline_limit(request) -> int:
    text = request.GET.get("timeline", "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else TIMELINE_STEP


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


from contacts import admin_transfers  # noqa: E402,F401  (registers File Transfers)
