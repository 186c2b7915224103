from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PhoneStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BOUNCED = "bounced", _("Bounced")
    PAUSED = "paused", _("Paused")


class SmsSubscription(models.TextChoices):
    SUBSCRIBED = "subscribed", _("Subscribed")
    NOT_SUBSCRIBED = "not_subscribed", _("Not subscribed")
    NONE = "none", _("None")


class WhatsAppConsent(models.TextChoices):
    OPT_IN = "opt_in", _("Opt-in")
    OPT_OUT = "opt_out", _("Opt-out")
    UNKNOWN = "unknown", _("Unknown")


def default_sms_subscription() -> str:
    return settings.CONTACT_DEFAULT_SMS_SUBSCRIPTION


class Contact(models.Model):
    """A brand's contact. Phone numbers are E.164 ("+905331234562"); emails are lower-cased."""

    external_id = models.CharField(
        _("external id"), max_length=191, null=True, blank=True, unique=True, help_text=_("The brand's own user id.")
    )
    email = models.CharField(_("email"), max_length=254, null=True, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=16, null=True, blank=True)
    whatsapp_number = models.CharField(_("WhatsApp number"), max_length=16, null=True, blank=True, unique=True)
    phone_status = models.CharField(
        _("phone status"), max_length=10, choices=PhoneStatus.choices, default=PhoneStatus.ACTIVE
    )
    sms_subscription = models.CharField(
        _("SMS subscription"), max_length=16, choices=SmsSubscription.choices, default=default_sms_subscription
    )
    whatsapp_consent = models.CharField(
        _("WhatsApp consent"), max_length=10, choices=WhatsAppConsent.choices, default=WhatsAppConsent.UNKNOWN
    )
    whatsapp_consent_at = models.DateTimeField(_("WhatsApp consent date"), null=True, blank=True)
    whatsapp_consent_source = models.CharField(_("WhatsApp consent source"), max_length=255, blank=True, default="")
    attributes = models.JSONField(
        _("profile attributes"),
        default=dict,
        blank=True,
        help_text=_("Name, city and anything else the brand uploads; used by template variables."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["phone"], name="contact_phone_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone_status", "sms_subscription"], name="contact_sms_audience_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=True) | Q(phone__startswith="+"), name="contact_phone_e164"
            ),
            models.CheckConstraint(
                condition=Q(whatsapp_number__isnull=True) | Q(whatsapp_number__startswith="+"),
                name="contact_whatsapp_e164",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or self.phone or self.email or self.whatsapp_number or f"#{self.pk}"


class ContactList(models.Model):
    """A named static list (e.g. from a User upload), usable as a campaign audience."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    contacts = models.ManyToManyField(Contact, through="ContactListMembership", related_name="lists")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("contact list")
        verbose_name_plural = _("contact lists")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ContactListMembership(models.Model):
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_list", "contact"], name="list_member_once")]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.contact_list_id}"
