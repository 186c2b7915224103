"""The WhatsApp admin's forms: the template page (the editor with the account, its wording locked
once submitted), the campaign form and the test send."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels_whatsapp.campaign_variables import initial_values, overrides
from channels_whatsapp.editor import TemplateEditorForm
from channels_whatsapp.editor_components import BODY_VARIABLES, CTA_SLOTS, header_slot_used, url_slot_used
from channels_whatsapp.models import TemplateStatus, WhatsAppCampaign, WhatsAppTemplate
from channels_whatsapp.template_checks import numbers, source_problems
from messaging.forms import CampaignFormParts, send_at_field
from messaging.models import Audience
from providers.base import Channel
from providers.models import ProviderAccount
from providers.selectors import account_choice_label

CATEGORY_SHORT = {"MARKETING": _("Marketing"), "UTILITY": _("Utility"), "AUTHENTICATION": _("Authentication")}


def template_choice_label(template: WhatsAppTemplate) -> str:
    """What the marketer picks by: the name and language, the category (it sets the kind), the account."""
    category = CATEGORY_SHORT.get(template.category, template.category)
    return f"{template} · {category} · {template.account.name}"


def whatsapp_accounts():
    return ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True)


class TemplateCreateForm(TemplateEditorForm):
    account = forms.ModelChoiceField(
        label=_("WhatsApp account"),
        queryset=ProviderAccount.objects.none(),
        help_text=_("The WhatsApp Business account that holds the template."),
    )
    fieldsets = [
        (
            None,
            {
                **TemplateEditorForm.fieldsets[0][1],
                "fields": ["account", *TemplateEditorForm.fieldsets[0][1]["fields"]],
            },
        ),
        *TemplateEditorForm.fieldsets[1:],
    ]
    field_order = ["account", *TemplateEditorForm.field_order]

    def __init__(self, *args, template: WhatsAppTemplate | None = None, lock_wording: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.template, self.locked = template, lock_wording
        accounts = self.fields["account"]
        accounts.queryset = whatsapp_accounts()
        accounts.label_from_instance = account_choice_label
        if lock_wording:  # the template's own account, even switched off since
            accounts.queryset = ProviderAccount.objects.filter(channel=Channel.WHATSAPP)
        elif template is None and len(accounts.queryset) == 1:
            accounts.initial = accounts.queryset[0].pk
        if lock_wording:  # submitted: Meta holds the wording; where the values come from may change
            for name, field in self.fields.items():
                if name.endswith(("_source", "_default")):
                    continue
                field.disabled = True
                field.help_text = ""  # how to write it no longer helps: it is written
                value = self.initial.get(name)
                if isinstance(field, forms.ChoiceField) and value and value not in dict(field.choices):
                    field.choices = [*field.choices, (value, value)]  # a language or category made at Meta

    def shown_fieldsets(self) -> list:
        """Every part to write a template; once submitted, only the parts the template has."""
        if not self.locked:
            return self.fieldsets
        initial = self.initial
        absent = set()
        if not initial.get("header_type"):
            absent.add("header_type")
        if not (initial.get("stop_button") or any(initial.get(f"{slot}_type") for slot in CTA_SLOTS)):
            absent.add("stop_button")
        return [(title, options) for title, options in self.fieldsets if not absent & set(options["fields"])]

    def clean(self):
        if not self.locked:
            data = super().clean()
            self._clean_unique(data)
            return data
        # Meta reviewed the wording as it is: only each variable's source and default are checked
        data = forms.Form.clean(self)
        for slot in used_slots(data):
            if not data.get(f"{slot}_default"):
                self.add_error(f"{slot}_default", gettext("Give a default: it is sent to contacts who have no value."))
            self._problems(f"{slot}_source", source_problems(data.get(f"{slot}_source") or ""))
        return data

    def _clean_unique(self, data) -> None:
        if "name" in self.errors or not data.get("account"):
            return
        same = WhatsAppTemplate.objects.filter(account=data["account"], name=data["name"], language=data["language"])
        if self.template is not None:
            same = same.exclude(pk=self.template.pk)
        if same.exists():
            self.add_error("name", gettext("This account has a template with this name in this language."))


def business_name(form: TemplateCreateForm, template: WhatsAppTemplate | None) -> str:
    """The name the phone preview shows at its top: the template's account, or the one preselected."""
    if template is not None:
        return template.account.name
    chosen = form.fields["account"].initial
    return next((a.name for a in form.fields["account"].queryset if a.pk == chosen), "") if chosen else ""


def used_slots(data) -> list[str]:
    """The editor's variable rows the template's wording uses (header, body_<n>, button_<n>)."""
    slots = ["header"] if header_slot_used(data) else []
    slots += [f"body_{n}" for n in sorted(set(numbers(data.get("body") or ""))) if n <= BODY_VARIABLES]
    return slots + [slot for slot in CTA_SLOTS if url_slot_used(data, slot)]


class WhatsAppCampaignForm(CampaignFormParts, forms.ModelForm):
    send_at = send_at_field()

    class Meta:
        model = WhatsAppCampaign
        fields = ["name", "account", "template", "audience", "contact_list", "segment", "audience_filter", "send_at"]

    acting_user = None  # set by the admin for the request (CampaignAdminBase.get_form)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "account" in self.fields:  # absent once the campaign has started (read-only then)
            self.fields["account"].queryset = ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True)
            self.fields["account"].label_from_instance = account_choice_label
            self.fields["account"].label = _("WhatsApp account")
            if len(self.fields["account"].queryset) == 1 and not self.instance.account_id:
                self.fields["account"].initial = self.fields["account"].queryset[0].pk
        self.setup_audience(without=(Audience.ALERT,))  # an alert goes to a phone number: SMS only
        if "audience_filter" in self.fields:
            self.fields["audience_filter"].widget.attrs.update(rows=3)
        if "template" in self.fields:
            self.fields["template"].queryset = WhatsAppTemplate.objects.filter(
                status=TemplateStatus.APPROVED, account__channel=Channel.WHATSAPP, account__is_active=True
            ).select_related("account")
            self.fields["template"].label_from_instance = template_choice_label
            self.fields["template"].required = True
            self.fields["template"].help_text = _(
                "Approved templates only. Its category sets the kind: marketing is a newsletter, utility and "
                "authentication transactional; WhatsApp opt-in is needed either way."
            )
        if self.instance.pk and self.instance.template_id and any(f.startswith("var_") for f in self.fields):
            for name, value in initial_values(self.instance).items():  # the campaign's, else the template's
                self.initial.setdefault(name, value)

    def clean(self):
        from messaging.services import campaign_validate

        cleaned = super().clean()
        self.drop_other_audiences(cleaned)
        campaign = self.instance
        for name in self.Meta.fields:
            if name in cleaned:
                setattr(campaign, name, cleaned[name])
        campaign.channel = Channel.WHATSAPP
        if any(f.startswith("var_") for f in self.fields):
            if campaign.template_id and campaign.template_id == self.initial.get("template"):
                campaign.variables = overrides(campaign, cleaned)
            else:
                campaign.variables = {}  # another template: its own variables, set on the next save
        if campaign.account_id and "account" in self.fields:
            try:
                campaign_validate(campaign)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return cleaned


class TestSendForm(forms.Form):
    to = forms.CharField(
        label=_("WhatsApp number"), max_length=32, help_text=_("With its country code, e.g. +905321234567.")
    )
