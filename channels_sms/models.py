"""The SMS channel's view of the channel-neutral core (messaging): proxies over the one template
and one campaign table, holding only SMS rows. They keep the admin pages, permissions and history
the SMS models had before the core moved (their content types are the old ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from messaging.models import Campaign, ChannelManager, OfOneChannel, Template
from providers.base import Channel


class SmsTemplate(OfOneChannel, Template):
    proxy_channel = Channel.SMS
    objects = ChannelManager(Channel.SMS)

    class Meta:
        proxy = True
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["name"]


class SmsCampaign(OfOneChannel, Campaign):
    proxy_channel = Channel.SMS
    objects = ChannelManager(Channel.SMS)

    class Meta:
        proxy = True
        verbose_name = _("SMS campaign")
        verbose_name_plural = _("SMS campaigns")
        ordering = ["-created_at"]
