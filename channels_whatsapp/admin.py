"""Settings → Channels → WhatsApp: templates (made in the panel with a live phone preview and
submitted to Meta, or synced from Meta, with their review status) and WhatsApp campaigns (the
core's campaign page, messaging.admin, with an approved template and its variables)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import AdminForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from channels_whatsapp.editor import TemplateEditorForm
from channels_whatsapp.forms import TestSendForm, WhatsAppCampaignForm
from channels_whatsapp.models import ServiceWindow, WhatsAppCampaign, WhatsAppTemplate
from channels_whatsapp.services import template_save_draft, template_submit, templates_sync, whatsapp_send
from messaging.admin import CampaignAdminBase
from messaging.models import CampaignStatus
from providers.base import Channel, TransportError
from providers.models import ProviderAccount

EDITOR_FIELDS = ("name", "language", "category")


class TemplateCreateForm(TemplateEditorForm):
    account = forms.ModelChoiceField(
        label=_("WhatsApp account"),
        queryset=ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True),
        help_text=_("The WhatsApp Business account that holds the template."),
    )
    fieldsets = [(None, {"fields": ["account"], "classes": ["wa-fieldset"]}), *TemplateEditorForm.fieldsets]
    field_order = ["account", *TemplateEditorForm.field_order]

    def __init__(self, *args, lock_wording: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if lock_wording:  # submitted: Meta holds the wording; where the values come from may change
            for name, field in self.fields.items():
                if not name.endswith(("_source", "_default")):
                    field.disabled = True


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "category", "status", "status_reason", "account", "status_at"]
    list_filter = ["status", "category", "language", "account"]
    search_fields = ["name", "text"]
    change_list_template = "admin/channels_whatsapp/template_changelist.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("sync/", view(self.sync_view), name="channels_whatsapp_whatsapptemplate_sync"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._editor(request, None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        template = get_object_or_404(WhatsAppTemplate, pk=object_id)
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
        form = TemplateCreateForm(data, initial=initial, lock_wording=locked)
        if data is not None and form.is_valid():
            try:
                return self._save(request, template, form, submit="_submit" in request.POST, locked=locked)
            except (TransportError, ValidationError) as exc:
                form.add_error(None, str(exc) if isinstance(exc, TransportError) else exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(template) if template else _("New WhatsApp template"),
            "template": template,
            "form": form,
            "adminform": AdminForm(form, form.fieldsets, {}),
            "locked": locked,
            "can_change": can_change,
            "wa_business_name": (template.account.name if template else ""),
        }
        return TemplateResponse(request, "admin/channels_whatsapp/template_editor.html", context)

    def _save(self, request, template, form, *, submit: bool, locked: bool):
        if locked:
            template.variables = form.bindings()
            template.save(update_fields=["variables", "updated_at"])
            self.message_user(request, _("Saved where the variables' values come from."))
            return HttpResponseRedirect(reverse("admin:channels_whatsapp_whatsapptemplate_change", args=[template.pk]))
        fields = {
            "account": form.cleaned_data["account"],
            **{f: form.cleaned_data[f] for f in EDITOR_FIELDS},
            "components": form.components(),
            "bindings": form.bindings(),
        }
        if template is None:
            template = template_save_draft(**fields)
        else:
            template.account = fields["account"]
            for f in EDITOR_FIELDS:
                setattr(template, f, fields[f])
            template.components, template.variables = fields["components"], fields["bindings"]
            template.save()
        if submit:
            template = template_submit(template=template)
            self.message_user(request, _("Submitted to Meta: %(status)s. The verdict arrives by itself.")
                              % {"status": template.get_status_display()})  # fmt: skip
        else:
            self.message_user(request, _("Saved as a draft; it is not at Meta yet."))
        return HttpResponseRedirect(reverse("admin:channels_whatsapp_whatsapptemplate_change", args=[template.pk]))

    def sync_view(self, request):
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        accounts = ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True)
        if not accounts:
            self.message_user(request, _("No WhatsApp account is installed (Connectors)."), messages.WARNING)
        for account in accounts:
            try:
                result = templates_sync(account=account)
            except TransportError as exc:
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
    list_filter = ["status", "kind", "audience", "account"]
    search_fields = ["name"]
    list_select_related = ["account", "template"]

    def get_fieldsets(self, request, obj=None):
        sets = [
            (None, {"fields": ["name", "account", "template"]}),
            (_("Audience"), {"fields": ["audience", "contact_list", "audience_filter"]}),
            (_("When"), {"fields": ["send_at"]}),
        ]
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
    list_filter = ["account"]
    search_fields = ["number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description=_("open"))
    def is_open(self, obj):
        return obj.is_open

    @admin.display(description=_("open until"))
    def open_until(self, obj):
        return obj.open_until
