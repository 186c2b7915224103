from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from channels_whatsapp.models import TemplateStatus, WhatsAppCampaign, WhatsAppTemplate
from providers.base import Channel
from providers.models import ProviderAccount


class WhatsAppCampaignForm(forms.ModelForm):
    send_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        input_formats=["%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(format="%Y-%m-%d %H:%M", attrs={"placeholder": "YYYY-MM-DD HH:mm"}),
        help_text=_("Europe/Istanbul time, YYYY-MM-DD HH:mm. Empty: send as soon as you start it."),
    )

    class Meta:
        model = WhatsAppCampaign
        fields = ["name", "account", "template", "audience", "contact_list", "audience_filter", "send_at"]

    acting_user = None  # set by the admin for the request (CampaignAdminBase.get_form)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "account" in self.fields:  # absent once the campaign has started (read-only then)
            self.fields["account"].queryset = ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True)
        if "template" in self.fields:
            self.fields["template"].queryset = WhatsAppTemplate.objects.filter(status=TemplateStatus.APPROVED)
            self.fields["template"].required = True
            self.fields["template"].help_text = _(
                "Approved templates only. Its category sets the kind: marketing is a newsletter, utility and "
                "authentication transactional; WhatsApp opt-in is needed either way."
            )

    def clean(self):
        from messaging.services import campaign_validate

        cleaned = super().clean()
        campaign = self.instance
        for name in self.Meta.fields:
            if name in cleaned:
                setattr(campaign, name, cleaned[name])
        campaign.channel = Channel.WHATSAPP
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
