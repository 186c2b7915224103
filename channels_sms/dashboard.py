"""The SMS channel's dashboard figures (settings.DASHBOARD_FIGURES)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from channels_sms.models import SmsCampaign


def dashboard_figures(*, request):
    from django.urls import reverse

    from config.dashboard import Figure

    if not request.user.has_perm("channels_sms.view_smscampaign"):
        return []
    sending = SmsCampaign.objects.filter(status="sending").count()
    return [
        Figure(
            key="campaigns_sending",
            label=_("SMS campaigns sending"),
            value=sending,
            detail=_("%(n)d scheduled") % {"n": SmsCampaign.objects.filter(status="scheduled").count()},
            url=reverse("admin:channels_sms_smscampaign_changelist"),
        )
    ]
