"""The WhatsApp channel's view of the messaging core: proxies over the one template and campaign
tables holding only WhatsApp rows, and the 24-hour customer service windows that people's own
messages open (product.md WhatsApp channel)."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import Campaign, ChannelManager, OfOneChannel, Template
from providers.base import Channel
from providers.models import ProviderAccount

WINDOW = timedelta(hours=24)


class TemplateStatus(models.TextChoices):
    """Meta's review statuses (providers.md §6.4), as Meta spells them."""

    DRAFT = "", _("Not submitted")
    PENDING = "PENDING", _("Pending review")
    APPROVED = "APPROVED", _("Approved")
    REJECTED = "REJECTED", _("Rejected")
    PAUSED = "PAUSED", _("Paused by Meta (low quality)")
    DISABLED = "DISABLED", _("Disabled by Meta")
    IN_APPEAL = "IN_APPEAL", _("In appeal")
    PENDING_DELETION = "PENDING_DELETION", _("Being deleted")
    DELETED = "DELETED", _("Deleted at Meta")
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", _("Template limit exceeded")
    ARCHIVED = "ARCHIVED", _("Archived")


class Category(models.TextChoices):
    MARKETING = "MARKETING", _("Marketing (a newsletter: needs opt-in)")
    UTILITY = "UTILITY", _("Utility (transactional: about an order, an account)")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication (transactional: one-time codes)")


class WhatsAppTemplate(OfOneChannel, Template):
    proxy_channel = Channel.WHATSAPP
    objects = ChannelManager(Channel.WHATSAPP)

    class Meta:
        proxy = True
        verbose_name = _("WhatsApp template")
        verbose_name_plural = _("WhatsApp templates")
        ordering = ["name", "language"]

    @property
    def sendable(self) -> bool:
        return self.status == TemplateStatus.APPROVED


class WhatsAppCampaign(OfOneChannel, Campaign):
    proxy_channel = Channel.WHATSAPP
    objects = ChannelManager(Channel.WHATSAPP)

    class Meta:
        proxy = True
        verbose_name = _("WhatsApp campaign")
        verbose_name_plural = _("WhatsApp campaigns")
        ordering = ["-created_at"]


class ServiceWindow(models.Model):
    """A person's last message to one of our WhatsApp numbers: free text (not a template) may be
    sent to them through that account for 24 hours after it (providers.md §6.8)."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("WhatsApp number"), max_length=16)
    last_inbound_at = models.DateTimeField(_("last message from them"))

    class Meta:
        verbose_name = _("customer service window")
        verbose_name_plural = _("customer service windows")
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="service_window_once")]

    def __str__(self) -> str:
        return f"{self.number} → {self.account}"

    @property
    def open_until(self):
        return self.last_inbound_at + WINDOW

    @property
    def is_open(self) -> bool:
        return self.open_until > timezone.now()
