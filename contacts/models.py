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
        _("external id"), max_length=191, null=True, blank=True, help_text=_("The brand's own user id.")
    )
    email = models.CharField(_("email"), max_length=254, null=True, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=16, null=True, blank=True)
    whatsapp_number = models.CharField(_("WhatsApp number"), max_length=16, null=True, blank=True)
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
            # partial: a contact without a phone (or email) adds nothing to that index, so an
            # upload of phones does not write the email index and the other way round
            models.Index(fields=["phone"], name="contact_phone_idx", condition=Q(phone__isnull=False)),
            models.Index(fields=["email"], name="contact_email_idx", condition=Q(email__isnull=False)),
            models.Index(fields=["phone_status", "sms_subscription"], name="contact_sms_audience_idx"),
        ]
        constraints = [
            # constraints rather than unique=True: unique when present (a partial index that
            # contacts without the value never enter), and no second (LIKE-pattern) index
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="contact_external_id_once",
                violation_error_message=_("Another contact has this external id."),
            ),
            models.UniqueConstraint(
                fields=["whatsapp_number"],
                condition=Q(whatsapp_number__isnull=False),
                name="contact_whatsapp_number_once",
                violation_error_message=_("Another contact has this WhatsApp number."),
            ),
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

    def save(self, *args, **kwargs):
        """A saved change of the phone or the WhatsApp number tells the consent app
        (signals.addresses_changed), which sets the consent fields for the new number; they are
        read back so this instance does not write the old ones over them on a later save."""
        loaded = getattr(self, "_loaded_addresses", None)
        super().save(*args, **kwargs)
        self._loaded_addresses = {f: getattr(self, f) for f in ADDRESSES}
        moved = [f for f, value in (loaded or {}).items() if getattr(self, f) != value]
        if moved:
            from contacts.signals import addresses_changed

            addresses_changed.send(sender=Contact, **{f: [self.pk] for f in moved})
            self.refresh_from_db(fields=CONSENT_FIELDS)

    @classmethod
    def from_db(cls, db, field_names, values):
        contact = super().from_db(db, field_names, values)
        contact._loaded_addresses = {f: getattr(contact, f) for f in ADDRESSES if f in contact.__dict__}
        return contact


ADDRESSES = ("phone", "whatsapp_number")  # what a consent is held for
CONSENT_FIELDS = ["sms_subscription", "whatsapp_consent", "whatsapp_consent_at", "whatsapp_consent_source"]


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


class ContactEvent(models.Model):
    """Something the brand's systems say a contact did ("cart_abandoned", with its properties):
    recorded by the API, read by journeys (product.md: The public API, events)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(_("event"), max_length=100)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred"))
    origin_ref = models.CharField(_("recorded by"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact event")
        verbose_name_plural = _("contact events")
        indexes = [models.Index(fields=["contact", "name", "occurred_at"], name="contact_event_by_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.contact_id})"


class FileTransferKind(models.TextChoices):
    USERS = "users", _("User upload")
    SMS_IYS = "sms-iys", _("SMS upload for İYS")
    EMAIL_IYS = "email-iys", _("Email upload for İYS")
    WHATSAPP = "whatsapp", _("WhatsApp number import")


class FileTransferStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PROCESSING = "processing", _("Processing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class FileEncoding(models.TextChoices):
    AUTO = "auto", _("Detect (UTF-8 or Turkish Windows-1254)")
    UTF8 = "utf-8", _("UTF-8")
    CP1254 = "cp1254", _("Windows-1254 (Turkish Excel)")


class FileTransfer(models.Model):
    """One uploaded file (Targeting → File Transfers), processed line by line in batches.
    `lines_done` is the checkpoint: a re-run resumes after it, so nothing is applied twice."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=FileTransferKind.choices)
    file = models.FileField(_("file"), upload_to="transfers/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    encoding = models.CharField(_("encoding"), max_length=10, choices=FileEncoding.choices, default=FileEncoding.AUTO)
    detected_encoding = models.CharField(max_length=10, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=12, choices=FileTransferStatus.choices, default=FileTransferStatus.QUEUED, db_index=True
    )
    error = models.TextField(_("error"), blank=True, default="")
    size_bytes = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    lines_done = models.IntegerField(default=0)
    read_count = models.IntegerField(_("read"), default=0)
    created_count = models.IntegerField(_("created"), default=0)
    updated_count = models.IntegerField(_("updated"), default=0)
    unchanged_count = models.IntegerField(_("unchanged"), default=0)
    rejected_count = models.IntegerField(_("rejected"), default=0)
    contact_list = models.ForeignKey(
        ContactList,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="file_transfers",
        verbose_name=_("list"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The worker processing it: claimed with a conditional UPDATE, kept alive by every batch.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Runs that started (or got) at the current checkpoint: a transfer that stops at the same place
    # run after run (a bug, a worker killed for memory) is failed instead of resumed forever.
    runs_without_progress = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("file transfer")
        verbose_name_plural = _("file transfers")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def progress(self) -> int:
        if self.status == FileTransferStatus.DONE:
            return 100
        if not self.size_bytes:
            return 0
        return min(99, int(self.bytes_done * 100 / self.size_bytes))

    @property
    def duration(self):
        if not self.started_at:
            return None
        from django.utils import timezone

        return (self.finished_at or timezone.now()) - self.started_at


class RejectedLine(models.Model):
    """A line the import refused, with the reason a marketer reads in the report."""

    file_transfer = models.ForeignKey(FileTransfer, on_delete=models.CASCADE, related_name="rejected_lines")
    line_no = models.IntegerField()
    raw = models.TextField()
    reason = models.TextField()

    class Meta:
        ordering = ["file_transfer", "line_no"]
        indexes = [models.Index(fields=["file_transfer", "line_no"], name="rejectedline_order_idx")]

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.reason}"


from contacts.audit import ContactWrite  # noqa: E402,F401  (a model of this app, in its own file)
