"""API keys (hashed, with scopes and an expiry) and the answers kept for Idempotency-Key."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey


class Scope(models.TextChoices):
    CONTACTS = "contacts", _("Contacts: create, update and read")
    CONSENTS = "consents", _("Consents: record changes and read them")
    MESSAGES = "messages", _("Messages: send and read their status")
    STATS = "stats", _("Statistics: campaign figures")
    EVENTS = "events", _("Events: record contact events (journeys)")
    WEBHOOKS = "webhooks", _("Webhooks: register and remove endpoints")


class ApiKey(AbstractAPIKey):
    """A key the brand's systems call the API with. The key itself is shown once and never
    stored: only its prefix (to find it) and a hash (product.md: The public API, keys)."""

    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    # the library's fields, relabelled in the panel's words (and languages); the columns are unchanged
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    name = models.CharField(
        _("name"),
        max_length=50,
        default=None,
        help_text=_("What the key is for, e.g. 'crm' or 'web shop'; at most 50 characters."),
    )
    revoked = models.BooleanField(
        _("revoked"), blank=True, default=False, help_text=_("A revoked key stops working at once, for good.")
    )
    expiry_date = models.DateTimeField(
        _("expires"), blank=True, null=True, help_text=_("After this moment the key no longer works.")
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    @property
    def label(self) -> str:
        """How history rows name the caller ("API key 'crm' (Ab12Cd34)")."""
        return f"API key '{self.name}' ({self.prefix})"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class IdempotencyState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class IdempotentRequest(models.Model):
    """The first answer to a POST carrying an Idempotency-Key, per key and API key: replayed to
    the same body, refused to another (product.md: Idempotency)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    state = models.CharField(max_length=10, choices=IdempotencyState.choices, default=IdempotencyState.RUNNING)
    response_status = models.SmallIntegerField(null=True)
    response_body = models.JSONField(null=True)  # the rendered body, as one JSON string (api.idempotency)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_once_per_api_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
