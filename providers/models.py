from __future__ import annotations

import secrets

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from providers.base import Channel, Connector
from providers.crypto import decrypt_json, encrypt_json
from providers.registry import connector_class


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class ProviderAccount(models.Model):
    """An installed connector: which provider, its settings, and its credentials (encrypted)."""

    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("How marketers pick this account, e.g. 'Infobip main'.")
    )
    connector = models.CharField(_("connector"), max_length=40)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    is_active = models.BooleanField(_("active"), default=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    credentials_encrypted = models.TextField(editable=False, blank=True, default="")
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    last_check_at = models.DateTimeField(_("last connection test"), null=True, blank=True)
    last_check_ok = models.BooleanField(_("last test passed"), null=True, blank=True)
    last_check_message = models.TextField(_("last test result"), blank=True, default="")
    # The address the panel was last opened on (when PUBLIC_BASE_URL is not set): the callback URL.
    callback_base_url = models.CharField(max_length=300, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("connector account")
        verbose_name_plural = _("connector accounts")
        ordering = ["channel", "name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<ProviderAccount {self.pk} {self.connector} {self.name!r}>"

    @property
    def credentials(self) -> dict:
        return decrypt_json(self.credentials_encrypted)

    def set_credentials(self, values: dict) -> None:
        self.credentials_encrypted = encrypt_json(values)

    def connector_instance(self) -> Connector:
        return connector_class(self.connector)(settings=dict(self.settings), credentials=self.credentials)

    @property
    def webhook_url(self) -> str:
        """Where the provider posts delivery reports and inbound messages (the admin shows it)."""
        from django.urls import reverse

        path = reverse("provider-webhook", kwargs={"connector": self.connector, "secret": self.webhook_secret})
        return self.public_base_url + path

    @property
    def public_base_url(self) -> str:
        """PUBLIC_BASE_URL when set; else the address the panel was served on when an admin last
        opened this account (remember_base_url); else the embedded default's own address."""
        return django_settings.PUBLIC_BASE_URL or self.callback_base_url or "http://127.0.0.1:8000"

    def remember_base_url(self, request) -> None:
        if django_settings.PUBLIC_BASE_URL:
            return
        base = request.build_absolute_uri("/").rstrip("/")
        if base != self.callback_base_url:
            type(self).objects.filter(pk=self.pk).update(callback_base_url=base)
            self.callback_base_url = base


class WebhookPost(models.Model):
    """A provider's webhook POST as it was received (secret and signature already checked): the
    inbox the `webhooks` workers drain many at a time (providers.inbox). A row is deleted in the
    transaction that applies it; one that failed waits `next_attempt_at` and is kept, with its
    error, after MAX_ATTEMPTS."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    body = models.BinaryField()  # the raw body as it came (a NUL byte included: no text column takes one)
    headers = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("received webhook")
        verbose_name_plural = _("received webhooks")

    def __str__(self) -> str:
        return f"webhook {self.pk} ({self.received_at:%Y-%m-%d %H:%M:%S})"

    def __repr__(self) -> str:
        return f"<WebhookPost {self.pk} account {self.account_id}>"
