"""The consent ledger: the current consent per (recipient, recipient type, type) and its
append-only history. Every write goes through consent.services.consent_apply (product.md:
'Every change is kept as history ... History is never edited or deleted')."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ConsentType(models.TextChoices):
    MESAJ = "MESAJ", _("Message (SMS)")
    ARAMA = "ARAMA", _("Call")
    EPOSTA = "EPOSTA", _("Email")
    # the panel's own: opt-in (ONAY) / opt-out (RET) of a WhatsApp number; never sent to İYS
    WHATSAPP = "WHATSAPP", _("WhatsApp (panel only)")


class RecipientType(models.TextChoices):
    BIREYSEL = "BIREYSEL", _("Individual")
    TACIR = "TACIR", _("Merchant")


class ConsentStatus(models.TextChoices):
    ONAY = "ONAY", _("Consent (ONAY)")
    RET = "RET", _("Rejection (RET)")


class ConsentSource(models.TextChoices):
    """İYS source values (iys.md §6.4-6.5): HS_* where the brand collected it, IYS_* at İYS; and
    two of the panel's own for WhatsApp consent, which İYS never sees (consent.rules)."""

    HS_FIZIKSEL_ORTAM = "HS_FIZIKSEL_ORTAM", _("Physical setting")
    HS_ISLAK_IMZA = "HS_ISLAK_IMZA", _("Signed form")
    HS_WEB = "HS_WEB", _("Website")
    HS_MOBIL = "HS_MOBIL", _("Mobile app")
    HS_CAGRI_MERKEZI = "HS_CAGRI_MERKEZI", _("Call centre")
    HS_SOSYAL_MEDYA = "HS_SOSYAL_MEDYA", _("Social media")
    HS_EPOSTA = "HS_EPOSTA", _("Email")
    HS_MESAJ = "HS_MESAJ", _("SMS")
    HS_EORTAM = "HS_EORTAM", _("Other electronic medium")
    HS_ETKINLIK = "HS_ETKINLIK", _("Event")
    HS_ATM = "HS_ATM", _("ATM")
    HS_2015 = "HS_2015", _("Before 1 May 2015")
    HS_KARAR = "HS_KARAR", _("Brand's decision (RET only)")
    IYS_WEB = "IYS_WEB", _("İYS website")
    IYS_MOBIL = "IYS_MOBIL", _("İYS mobile app")
    IYS_CM = "IYS_CM", _("İYS call centre")
    IYS_3338 = "IYS_3338", _("İYS SMS 3338")
    IYS_KISA_LINK = "IYS_KISA_LINK", _("İYS short link")
    IYS_EPOSTA = "IYS_EPOSTA", _("İYS email")
    IYS_KISAMESAJ = "IYS_KISAMESAJ", _("İYS SMS")
    WHATSAPP = "WHATSAPP", _("In WhatsApp (a reply, the stop button or Meta's notice)")
    NOT_STATED = "NOT_STATED", _("Not stated (WhatsApp number import, earlier contact field)")


class ChangeOrigin(models.TextChoices):
    UPLOAD = "upload", _("File upload")
    API = "api", _("API client")
    ADMIN = "admin", _("Panel user")
    IYS_PULL = "iys_pull", _("İYS pull")
    INBOUND = "inbound", _("Inbound message (STOP)")
    PROVIDER = "provider", _("Provider refusal")
    MIGRATED = "migrated", _("Migrated from the contact's WhatsApp consent field")


class Consent(models.Model):
    """The current consent of one recipient for one type (the İYS consent key, without brand)."""

    recipient = models.CharField(_("recipient"), max_length=265)
    recipient_type = models.CharField(
        _("recipient type"), max_length=10, choices=RecipientType.choices, default=RecipientType.BIREYSEL
    )
    type = models.CharField(_("consent type"), max_length=10, choices=ConsentType.choices)
    status = models.CharField(_("status"), max_length=4, choices=ConsentStatus.choices)
    consent_date = models.DateTimeField(_("consent date"))
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consents",
        verbose_name=_("contact"),
        db_index=False,  # consent_contact_type_idx (contact, type) serves lookups by contact
    )
    # When İYS last confirmed this status (push confirmation or pull). In Integrator mode only a
    # confirmed ONAY counts for commercial sending; a status change clears it.
    iys_confirmed_at = models.DateTimeField(_("confirmed by İYS"), null=True, blank=True)
    # When İYS's status queries (C5/C4) last looked at this consent (backfill, Integrator checks)
    iys_checked_at = models.DateTimeField(_("checked at İYS"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "type", "recipient_type"], name="consent_key_once"),
        ]
        indexes = [models.Index(fields=["contact", "type"], name="consent_contact_type_idx")]

    def __str__(self) -> str:
        return f"{self.recipient} {self.type} {self.status}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("consent history is append-only: rows cannot be updated")

    def delete(self):
        raise PermissionError("consent history is append-only: rows cannot be deleted")


class ConsentChange(models.Model):
    """One accepted change of a consent: never edited, never deleted. Keys are SET_NULL with
    copied identifiers so the history outlives deletions (CONVENTIONS pattern 8).

    The keys carry no database constraint (db_constraint=False): rows are written only by
    consent_apply with ids it has just read or made, and Django's delete still sets them to NULL;
    a constraint would cost a locked look-up per key at every commit, a quarter of an import's
    database time."""

    consent = models.ForeignKey(
        Consent, null=True, on_delete=models.SET_NULL, related_name="changes", db_constraint=False
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consent_changes",
        db_constraint=False,
    )
    recipient = models.CharField(_("recipient"), max_length=265)
    recipient_type = models.CharField(_("recipient type"), max_length=10, choices=RecipientType.choices)
    type = models.CharField(_("consent type"), max_length=10, choices=ConsentType.choices)
    status = models.CharField(_("status"), max_length=4, choices=ConsentStatus.choices)
    previous_status = models.CharField(
        _("previous status"), max_length=4, choices=ConsentStatus.choices, blank=True, default=""
    )
    consent_date = models.DateTimeField(_("consent date"))
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    origin = models.CharField(_("changed by"), max_length=10, choices=ChangeOrigin.choices)
    origin_ref = models.CharField(
        _("reference"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("File name and line, API client, or İYS transaction."),
    )
    # not indexed: nothing looks history up by file or user (the admin filters by origin and date);
    # deleting a file transfer or a user scans once, while every import would write two more indexes
    file_transfer = models.ForeignKey(
        "contacts.FileTransfer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    acting_username = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent history")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "type"], name="consentchange_recipient_idx")]

    def __str__(self) -> str:
        return f"{self.recipient} {self.type} → {self.status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("consent history is append-only: rows cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("consent history is append-only: rows cannot be deleted")


class MessageKind(models.TextChoices):
    """What a message is, for the consent rules: commercial (newsletter) or transactional."""

    TRANSACTIONAL = "transactional", _("Transactional")
    NEWSLETTER = "newsletter", _("Newsletter (commercial)")


class IysCursor(models.Model):
    """Where the pull of one İYS changes feed (source HS or IYS) stopped, per connector account."""

    account = models.ForeignKey("providers.ProviderAccount", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=3, choices=[("HS", "HS"), ("IYS", "IYS")])
    after = models.CharField(max_length=200, blank=True, default="")
    last_pull_at = models.DateTimeField(null=True, blank=True)
    pulled_total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "source"], name="iys_cursor_once")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.source} after {self.after or 'start'}"


class SubmissionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUBMITTED = "submitted", _("Submitted")
    CONFIRMED = "confirmed", _("Confirmed by İYS")
    REJECTED = "rejected", _("Rejected by İYS")
    RETRYING = "retrying", _("Retrying")
    SKIPPED = "skipped", _("Skipped")


class IysSubmission(models.Model):
    """Sending one consent change to İYS (Sync mode). The change itself stays untouched (history is
    append-only); this row moves pending → submitted → confirmed | rejected | retrying | skipped."""

    change = models.OneToOneField(ConsentChange, on_delete=models.PROTECT, related_name="iys_submission")
    account = models.ForeignKey(
        "providers.ProviderAccount", on_delete=models.CASCADE, related_name="+", db_index=False
    )  # every query filters by state first; an index per write costs more than it finds
    # the change's recipient, copied: the push holds back a recipient while İYS processes an earlier
    # change of theirs, and finds those in flight by this column alone
    recipient = models.CharField(_("recipient"), max_length=265, blank=True, default="", editable=False)
    state = models.CharField(_("state"), max_length=10, choices=SubmissionState.choices)
    deadline = models.DateTimeField(_("deadline"), help_text=_("3 business days after the consent date."))
    skip_reason = models.CharField(_("skipped because"), max_length=200, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    subrequest_id = models.CharField(max_length=64, blank=True, default="")
    transaction_id = models.CharField(_("İYS transaction id"), max_length=80, blank=True, default="")
    iys_created_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(_("İYS code"), max_length=10, blank=True, default="")
    error_message = models.TextField(_("İYS message"), blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("İYS submission")
        verbose_name_plural = _("İYS submissions")
        indexes = [
            # partial indexes: a submission that moves on leaves them instead of adding an entry
            models.Index(
                fields=["state", "deadline"],
                name="iyssubmission_queue_idx",
                condition=Q(state__in=["pending", "retrying"]),
            ),
            models.Index(fields=["request_id"], name="iyssubmission_request_idx", condition=Q(state="submitted")),
            models.Index(
                fields=["account", "recipient"], name="iyssubmission_inflight_idx", condition=Q(state="submitted")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.change_id} {self.state}"


class BackfillState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class IysBackfill(models.Model):
    """The one-off synchronisation of every contact with İYS after install (product.md: it starts
    the night of installation, continues in batches until every contact is processed, is
    resumable and shows progress). `last_contact_id` is the resume point."""

    account = models.OneToOneField("providers.ProviderAccount", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=BackfillState.choices, default=BackfillState.SCHEDULED)
    starts_at = models.DateTimeField(_("starts at"))
    last_contact_id = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField(_("contacts to check"), default=0)
    processed = models.PositiveIntegerField(_("contacts checked"), default=0)
    confirmed = models.PositiveIntegerField(_("ONAY confirmed by İYS"), default=0)
    imported = models.PositiveIntegerField(_("taken from İYS"), default=0)
    not_at_iys = models.PositiveIntegerField(_("ONAY that İYS does not hold"), default=0)
    queued = models.PositiveIntegerField(_("queued for İYS"), default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("İYS status")
        verbose_name_plural = _("İYS status")

    def __str__(self) -> str:
        return f"backfill {self.account_id} {self.state}"

    @property
    def percent(self) -> int:
        if self.state == BackfillState.DONE:
            return 100
        return min(99, int(100 * self.processed / self.total)) if self.total else 0
