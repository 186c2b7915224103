"""Outgoing webhooks: the brand's endpoints, a delivery per event and endpoint (the outbox, written
in the transaction that made the event), and each attempt to deliver it (product.md: The public
API, outgoing webhooks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    MESSAGE_STATUS = "message.status", _("A message's status changed")
    CONSENT_CHANGED = "consent.changed", _("A consent changed")
    MESSAGE_INBOUND = "message.inbound", _("A message came in")


class Endpoint(models.Model):
    url = models.URLField(_("URL"), max_length=2000, help_text=_("Where the panel POSTs the events (HTTPS)."))
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        editable=False,
        help_text=_("Verify each delivery's webhook-signature with it (Standard Webhooks)."),
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("An inactive endpoint gets nothing."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    api_key = models.ForeignKey(
        "api.ApiKey",
        verbose_name=_("registered by API key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (no more attempts)")


class Delivery(models.Model):
    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(Endpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(_("event id (webhook-id)"), max_length=40, editable=False)
    event_type = models.CharField(_("event"), max_length=30, choices=EventType.choices)
    payload = models.JSONField(_("data"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.SmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    last_status_code = models.SmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            # the deliverer's pick: an endpoint's due rows, oldest first; only pending rows are in it
            models.Index(
                fields=["endpoint", "next_attempt_at", "id"],
                name="webhook_delivery_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["claim"], name="webhook_delivery_claim", condition=Q(claim__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class Attempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    at = models.DateTimeField(_("at"))
    status_code = models.SmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True, default="")
    response = models.CharField(_("response (start)"), max_length=500, blank=True, default="")
    duration_ms = models.IntegerField(_("duration (ms)"))

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
