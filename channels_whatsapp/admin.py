"""Settings → Channels → WhatsApp: templates (made in the panel with a live phone preview and
submitted to Meta, or synced from Meta, with their review status) and WhatsApp campaigns (the
core's campaign page, messaging.admin, with an approved template and its variables)."""

from __future__ import annotations

import logging
import re

from django.contrib import admin, messages
from django.contrib.admin.helpers import AdminForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels_whatsapp.campaign_variables import form_with_variables, variable_fields
from channels_whatsapp.editor import TemplateEditorForm
from channels_whatsapp.forms import (
    CATEGORY_SHORT,
    TemplateCreateForm,
    TestSendForm,
    WhatsAppCampaignForm,
    business_name,
    whatsapp_accounts,
)
from channels_whatsapp.models import ServiceWindow, TemplateStatus, WhatsAppCampaign, WhatsAppTemplate
from channels_whatsapp.services import (
    template_save_draft,
    template_submission,
    template_submit,
    templates_sync,
)
from channels_whatsapp.single import whatsapp_send
from channels_whatsapp.template_checks import LANGUAGES
from messaging.admin import CampaignAdminBase
from messaging.models import CampaignStatus
from providers.base import Channel, TransportError
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)

EDITOR_FIELDS = ("name", "language", "category")
LANGUAGE_LABELS = dict(LANGUAGES)  # "Turkish (tr)"


def status_label(status: str) -> str:
    return str(TemplateStatus(status).label) if status in TemplateStatus.values else status


def reason_words(reason: str) -> str:
    """Meta's reason as the template webhook gives it in words; a sync gives its code (INVALID_FORMAT)."""
    return reason.replace("_", " ").lower() if re.fullmatch(r"[A-Z_]+", reason) else reason


def category_label(category: str) -> str:
    return str(CATEGORY_SHORT.get(category, category))


def several_accounts() -> bool:
    return ProviderAccount.objects.filter(channel=Channel.WHATSAPP).count() > 1


class LabelledFilter(admin.SimpleListFilter):
    """A filter on a field kept as Meta spells it, offered in words (the field has no choices)."""

    labels: dict = {}

    def lookups(self, request, model_admin):
        present = set(model_admin.get_queryset(request).values_list(self.parameter_name, flat=True).distinct())
        known = [(value, label) for value, label in self.labels.items() if value in present]
        return known + [(value, value) for value in sorted(present - set(self.labels)) if value]  # made at Meta

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() is not None else queryset


class StatusFilter(LabelledFilter):
    title = _("review status")
    parameter_name = "status"
    labels = dict(TemplateStatus.choices)


class LanguageFilter(LabelledFilter):
    title = _("language")
    parameter_name = "language"
    labels = LANGUAGE_LABELS


class CategoryFilter(LabelledFilter):
    title = _("category")
    parameter_name = "category"
    labels = CATEGORY_SHORT


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language_shown", "category_shown", "status_shown", "account", "status_changed"]
    list_filter = [StatusFilter, CategoryFilter, LanguageFilter, ("account", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["account"]
    search_fields = ["name", "text"]
    change_list_template = "admin/channels_whatsapp/template_changelist.html"

    @admin.display(description=_("language"), ordering="language")
    def language_shown(self, obj):
        return str(LANGUAGE_LABELS.get(obj.language, obj.language))

    @admin.display(description=_("category"), ordering="category")
    def category_shown(self, obj):
        return category_label(obj.category)

    @admin.display(description=_("review status"), ordering="status")
    def status_shown(self, obj):
        label = status_label(obj.status)
        return f"{label}: {reason_words(obj.status_reason)}" if obj.status_reason else label

    @admin.display(description=_("status changed"), ordering="status_at")
    def status_changed(self, obj):
        return date_format(localtime(obj.status_at), "Y-m-d H:i") if obj.status_at else "-"

    def get_list_display(self, request):
        if several_accounts():
            return self.list_display
        return [name for name in self.list_display if name != "account"]  # one account: no need to say

    def get_list_filter(self, request):
        return self.list_filter if several_accounts() else self.list_filter[:-1]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("sync/", view(self.sync_view), name="channels_whatsapp_whatsapptemplate_sync"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_sync": self.has_change_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._editor(request, None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        template = get_object_or_404(WhatsAppTemplate.objects.select_related("account"), pk=object_id)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        return self._editor(request, template)

    def _editor(self, request, template: WhatsAppTemplate | None):
        can_change = self.has_change_permission(request, template) if template else self.has_add_permission(request)
        locked = bool(template and template.provider_id)
        initial = {}
        if template:
            initial = TemplateEditorForm.initial_from(
                template.components,
                template.variables,
                **{f: getattr(template, f) for f in EDITOR_FIELDS},
                account=template.account_id,
            )
        data = request.POST if request.method == "POST" and can_change else None
        form = TemplateCreateForm(data, initial=initial, template=template, lock_wording=locked)
        if data is not None and form.is_valid():
            try:
                return self._save(request, template, form, submit="_submit" in request.POST, locked=locked)
            except TransportError as exc:
                said = gettext("Meta did not take the template: %(reason)s") % {"reason": exc}
                if getattr(exc, "maybe_sent", False):  # the answer was lost: Meta may hold it all the same
                    said += " " + gettext("It may have reached Meta: press “Sync templates” on the list first.")
                form.add_error(None, said)
            except ValidationError as exc:
                form.add_error(None, exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(template) if template else _("New WhatsApp template"),
            "template": template,
            "status_label": status_label(template.status) if template else "",
            "status_reason": reason_words(template.status_reason) if template else "",
            "form": form,
            "adminform": AdminForm(form, form.shown_fieldsets(), {}),
            "locked": locked,
            "can_change": can_change,
            "no_account": template is None and not whatsapp_accounts().exists(),
            "wa_business_name": business_name(form, template),
        }
        return TemplateResponse(request, "admin/channels_whatsapp/template_editor.html", context)

    def _save(self, request, template, form, *, submit: bool, locked: bool):
        if locked:
            template.variables = form.bindings()
            template.save(update_fields=["variables", "updated_at"])
            self.log_change(request, template, "Variables' sources and defaults changed.")
            self.message_user(request, _("Saved where the variables' values come from."))
            return HttpResponseRedirect(reverse("admin:channels_whatsapp_whatsapptemplate_change", args=[template.pk]))
        fields = {
            "account": form.cleaned_data["account"],
            **{f: form.cleaned_data[f] for f in EDITOR_FIELDS},
            "components": form.components(),
            "bindings": form.bindings(),
        }
        # the sample of a media header is fetched and uploaded first, outside the transaction (it may take a minute)
        submission = None
        if submit:
            unsaved = WhatsAppTemplate(
                account=fields["account"], components=fields["components"], variables=fields["bindings"]
            )
            submission = template_submission(unsaved)
        # a refusal by Meta rolls the draft back too: the page shows the form as typed, nothing half-made
        new = template is None
        with transaction.atomic():
            if new:
                template = template_save_draft(**fields)
            else:
                template.account = fields["account"]
                for f in EDITOR_FIELDS:
                    setattr(template, f, fields[f])
                template.components, template.variables = fields["components"], fields["bindings"]
                template.text = next((c["text"] for c in template.components if c["type"] == "BODY"), "")
                template.save()
            if submit:
                template = template_submit(template=template, components=submission)
        said = f"Submitted to Meta: {template.status}." if submit else "Saved as a draft."
        (self.log_addition if new else self.log_change)(request, template, said)  # the template's history
        if submit:
            self.message_user(request, _("Submitted to Meta: %(status)s. The verdict arrives by itself.")
                              % {"status": status_label(template.status)})  # fmt: skip
        else:
            self.message_user(request, _("Saved as a draft; it is not at Meta yet."))
        return HttpResponseRedirect(reverse("admin:channels_whatsapp_whatsapptemplate_change", args=[template.pk]))

    def sync_view(self, request):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        accounts = whatsapp_accounts()
        if not accounts:
            self.message_user(
                request, _("No WhatsApp account is installed: an admin adds one under Connectors."), messages.WARNING
            )
        for account in accounts:
            try:
                result = templates_sync(account=account)
            except TransportError as exc:
                logger.warning("WhatsApp account %s: template sync from the panel failed: %s", account.pk, exc)
                self.message_user(request, f"{account.name}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(account)s: %(created)d new, %(updated)d changed, %(gone)d deleted at Meta.")
                    % {
                        "account": account.name,
                        "created": result.created,
                        "updated": result.updated,
                        "gone": result.gone,
                    },
                )
        return HttpResponseRedirect(reverse("admin:channels_whatsapp_whatsapptemplate_changelist"))


@admin.register(WhatsAppCampaign)
class WhatsAppCampaignAdmin(CampaignAdminBase):
    form = WhatsAppCampaignForm
    editable_fields = WhatsAppCampaignForm.Meta.fields
    list_display = ["name", "status", "template", "kind", "audience", "account", "send_at", "message_count"]
    list_filter = ["status", "kind", "audience", ("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name"]
    list_select_related = ["account", "template"]

    class Media:
        css = {"all": ["channels_whatsapp/whatsapp_admin.css"]}

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None and obj.status == CampaignStatus.DRAFT and obj.template_id:
            kwargs["form"] = form_with_variables(self.form, obj)  # the template's variables, to override
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        sets = [
            (None, {"fields": ["name", "account", "template"]}),
            (_("Audience"), {"fields": self.audience_fields(obj)}),
            (_("When"), {"fields": ["send_at"]}),
        ]
        if obj is not None and obj.status == CampaignStatus.DRAFT and obj.template_id:
            names = list(variable_fields(obj.template))
            if names:
                pairs = [tuple(names[i : i + 2]) for i in range(0, len(names), 2)]
                description = _("Starts as the template's; change them for this campaign only.")
                sets.insert(1, (_("Variables"), {"fields": pairs, "description": description}))
        if obj and obj.status != CampaignStatus.DRAFT:
            sets.append(
                (_("Progress"), {"fields": ["status", "message_count", "started_at", "finished_at", "statistics"]})
            )
        return sets

    def test_form(self, request, campaign, data=None):
        return TestSendForm(data)

    def test_send(self, request, campaign, form):
        return whatsapp_send(
            to=form.cleaned_data["to"], account=campaign.account, template=campaign.template, acting_user=request.user
        )


@admin.register(ServiceWindow)
class ServiceWindowAdmin(admin.ModelAdmin):
    """Who wrote to us lately: free text may go to them until 24 hours after their last message."""

    list_display = ["number", "account", "last_inbound_at", "open_until", "is_open"]
    list_filter = [("account", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a window is what people did; it closes by itself

    @admin.display(boolean=True, description=_("open"))
    def is_open(self, obj):
        return obj.is_open

    @admin.display(description=_("open until"))
    def open_until(self, obj):
        return obj.open_until
