from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_sms.models import SmsCampaign, SmsTemplate
from consent.models import MessageKind
from messaging.channels import adapter
from messaging.forms import CampaignFormParts, send_at_field
from messaging.rendering import variables
from messaging.variables import unknown_variables, unknown_variables_message
from providers.base import Channel
from providers.models import ProviderAccount
from providers.selectors import account_choice_label


def clean_variables(text: str) -> str:
    """A variable that matches no contact field and no contact's attribute is a typo: refused."""
    if unknown := unknown_variables(variables(text or "")):
        raise forms.ValidationError(unknown_variables_message(unknown))
    return text


class TemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = ["name", "sender", "text"]

    def clean_text(self):
        return clean_variables(self.cleaned_data.get("text"))


class CampaignForm(CampaignFormParts, forms.ModelForm):
    send_at = send_at_field()

    class Meta:
        model = SmsCampaign
        fields = [
            "name",
            "kind",
            "account",
            "sender",
            "template",
            "text",
            "audience",
            "contact_list",
            "segment",
            "audience_filter",
            "alert_phone",
            "send_at",
        ]

    acting_user = None  # set by the admin for the request (CampaignAdminBase.get_form)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_audience()
        if "kind" in self.fields:
            self.fields["kind"].help_text = _(
                "Transactional skips the subscription and İYS checks: only users allowed to send "
                "transactional messages may choose it."
            )
        if "account" in self.fields:  # absent once the campaign has started (read-only then)
            self.fields["account"].queryset = ProviderAccount.objects.filter(channel=Channel.SMS, is_active=True)
            self.fields["account"].label_from_instance = account_choice_label
        if "template" in self.fields:
            self.fields["template"].queryset = SmsTemplate.objects.all()
        if "sender" in self.fields:
            self.fields["sender"].required = False
            self.fields["sender"].help_text = _(
                "At most 11 characters; empty: the template's or the account's default."
            )

    def clean(self):
        from django.core.exceptions import ValidationError

        from messaging.services import campaign_authorise_kind, campaign_validate

        cleaned = super().clean()
        self.drop_other_audiences(cleaned)
        if cleaned.get("text") and "text" in self.fields:
            try:
                clean_variables(cleaned["text"])
            except ValidationError as exc:
                self.add_error("text", exc)
        campaign = self.instance
        for name in self.Meta.fields:
            if name in cleaned:
                setattr(campaign, name, cleaned[name])
        if not campaign.sender and campaign.account_id:
            campaign.sender = adapter(Channel.SMS).default_sender(campaign)
            cleaned["sender"] = campaign.sender
        if campaign.account_id and "account" in self.fields:
            try:
                campaign_validate(campaign)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        if "kind" in self.fields:
            try:  # a transactional campaign is made or changed only by someone allowed to choose it
                campaign_authorise_kind(campaign=campaign, acting_user=self.acting_user, changed=self.has_changed())
            except ValidationError as exc:
                self.add_error("kind", exc.message_dict["kind"])
        return cleaned


class SendForm(forms.Form):
    to = forms.CharField(label=_("Phone number"), max_length=32, help_text=_("E.g. +905321234567 or 05321234567."))
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}))
    kind = forms.ChoiceField(label=_("Kind"), choices=MessageKind.choices, initial=MessageKind.TRANSACTIONAL)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from messaging.services import may_choose_transactional

        if user is not None and not may_choose_transactional(user):  # a newsletter test goes through the rule
            self.fields["kind"].choices = [(MessageKind.NEWSLETTER, MessageKind.NEWSLETTER.label)]
            self.fields["kind"].initial = MessageKind.NEWSLETTER
