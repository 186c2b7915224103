"""The SMS channel's view of the channel-neutral core (messaging): proxies over the one template
and one campaign table, holding only SMS rows. They keep the admin pages, permissions and history
the SMS models had before the core moved (their content types are the old ones)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from messaging.models import Campaign, Template
from providers.base import Channel


class SmsManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(channel=Channel.SMS)


class SmsTemplate(Template):
    objects = SmsManager()

    class Meta:
        proxy = True
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["name"]

    def save(self, *args, **kwargs):
        self.channel = Channel.SMS
        super().save(*args, **kwargs)


class SmsCampaign(Campaign):
    objects = SmsManager()

    class Meta:
        proxy = True
        verbose_name = _("SMS campaign")
        verbose_name_plural = _("SMS campaigns")
        ordering = ["-created_at"]

    def save(self, *args, **kwargs):
        self.channel = Channel.SMS
        super().save(*args, **kwargs)
