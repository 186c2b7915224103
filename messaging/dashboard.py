"""The dashboard's blocks from the core (settings.DASHBOARD_PANELS): what to do next on a new
installation, messages per day, the recent campaigns of every channel. A channel's pages are
found through the admin's registry (its CampaignAdminBase), so the core imports no channel app."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from config.dashboard import Panel
from contacts.models import Contact
from messaging.models import Campaign, Message, MessageStatus
from messaging.selectors import SENT_OR_LATER
from providers.base import Channel
from providers.models import ProviderAccount

RECENT = 5
SENDING_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


@dataclass
class Step:
    key: str
    title: str
    help: str
    done: bool
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, url) the user may follow
    note: str = ""  # what to do when the user may not do it here


def campaign_admins(request) -> dict[str, admin.ModelAdmin]:
    """Each channel's campaign admin the user may view, by channel."""
    from messaging.admin import CampaignAdminBase

    found = {}
    for model, model_admin in admin.site._registry.items():
        channel = getattr(model, "proxy_channel", "")
        if isinstance(model_admin, CampaignAdminBase) and channel and model_admin.has_view_permission(request):
            found[channel] = model_admin
    return dict(sorted(found.items()))


def getting_started_steps(request) -> list[Step]:
    user = request.user
    connector_links = []
    if user.has_perm("providers.add_provideraccount"):
        connector_links.append((_("Install a connector"), reverse("admin:providers_provideraccount_add")))
    contact_links = []
    if user.has_perm("contacts.add_filetransfer"):
        contact_links.append((_("Upload a file of contacts"), reverse("admin:contacts_filetransfer_add")))
    campaign_links = [
        (_("New %(channel)s campaign") % {"channel": Channel(channel).label}, reverse(f"admin:{m.url_name('add')}"))
        for channel, m in campaign_admins(request).items()
        if m.has_add_permission(request)
    ]
    return [
        Step(
            "connector",
            _("Install a connector"),
            _("An SMS or WhatsApp provider account sends the messages and brings their delivery reports back."),
            ProviderAccount.objects.filter(channel__in=SENDING_CHANNELS).exists(),
            connector_links,
            "" if connector_links else _("Connectors hold credentials: an admin installs them."),
        ),
        Step(
            "contacts",
            _("Upload contacts"),
            _("A CSV or Excel file of your contacts with their phone numbers and consents."),
            Contact.objects.exists(),
            contact_links,
            "" if contact_links else _("You may not upload files: ask an admin."),
        ),
        Step(
            "campaign",
            _("Create a campaign"),
            _("Choose the audience and the text, check the preview, then send or schedule it."),
            Campaign.objects.exists(),
            campaign_links,
            "" if campaign_links else _("You may not create campaigns: ask an admin."),
        ),
    ]


def getting_started(*, request) -> list[Panel]:
    """Until a connector, contacts and a campaign exist: the steps, each ticked once done."""
    steps = getting_started_steps(request)
    if all(step.done for step in steps):
        return []
    return [Panel("getting-started", "messaging/dashboard/getting_started.html", {"steps": steps})]


def messages_chart(*, request) -> list[Panel]:
    if not request.user.has_perm("messaging.view_message"):
        return []
    chart = {
        "key": "messages-per-day",
        "title": _("Messages per day, last 30 days"),
        "url": reverse("admin:messaging_message_per_day"),
        "caption": _("Every channel, by the day the message was made and its status now."),
    }
    return [Panel("messages-per-day", "panel/chart.html", {"chart": chart}, wide=False)]


@dataclass
class RecentCampaign:
    campaign: Campaign
    channel: str
    status: str
    sent: int
    delivered: int
    url: str


def recent_campaigns(*, request) -> list[Panel]:
    """The last campaigns of the channels the user may see, with what was sent and delivered."""
    admins = campaign_admins(request)
    if not admins:
        return []
    campaigns = list(Campaign.objects.filter(channel__in=list(admins)).order_by("-created_at", "-pk")[:RECENT])
    if not campaigns:
        return []
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Message.objects.filter(campaign_id__in=[c.pk for c in campaigns])
        .order_by()
        .values_list("campaign_id", "status")
        .annotate(n=Count("pk"))
    )
    for campaign_id, status, n in rows:  # (campaign, status) groups: served by message_campaign_status
        counts[campaign_id][status] = n
    recent = []
    for c in campaigns:
        by_status = counts[c.pk]
        recent.append(
            RecentCampaign(
                campaign=c,
                channel=c.get_channel_display(),
                status=c.get_status_display(),
                sent=sum(by_status.get(s, 0) for s in SENT_OR_LATER),
                delivered=by_status.get(MessageStatus.DELIVERED, 0),
                url=reverse(f"admin:{admins[c.channel].url_name('preview')}", args=[c.pk]),
            )
        )
    return [Panel("recent-campaigns", "messaging/dashboard/recent_campaigns.html", {"recent": recent})]
