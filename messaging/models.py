"""The channel-neutral core: templates, campaigns and messages of every channel (SMS, WhatsApp).
A Message row is who, what, through which account, and its delivery status in the common model of
providers.md §0.1; every status change goes through messaging.delivery. The tables keep the names
they had when SMS was the only channel (channels_sms_*), so existing data stayed where it was; each
channel app works on them through proxies (channels_sms.SmsCampaign, …)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consent.models import MessageKind
from contacts.models import Contact, ContactList
from providers.base import Channel, DeliveryStatus
from providers.models import ProviderAccount


class ChannelManager(models.Manager):
    """A channel app's proxy sees its own channel's rows only."""

    def __init__(self, channel: str):
        super().__init__()
        self.channel = channel

    def get_queryset(self):
        return super().get_queryset().filter(channel=self.channel)


class OfOneChannel:
    """Mixed into a channel app's proxy (before the model): saving sets the proxy's channel."""

    proxy_channel = ""

    def save(self, *args, **kwargs):
        self.channel = self.proxy_channel
        super().save(*args, **kwargs)


class Template(models.Model):
    """A preset of one channel. SMS: a text with variables ({{name}}, {{city|default}}) and a
    default sender name. WhatsApp: a template held by Meta for one account in one language, with
    its review status, Meta's components and the bindings of its variables ({{1}} → a contact
    field or profile attribute, with a default); `text` is then its body, for history and search."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.SMS)
    name = models.CharField(_("name"), max_length=512)
    text = models.TextField(
        _("text"),
        help_text=_(
            "Variables: {{external_id}}, {{email}}, {{phone}} or any profile attribute such as {{name}}; "
            "a default after a bar is used when the contact has no value: {{name|Müşterimiz}}."
        ),
    )
    sender = models.CharField(_("default sender name"), max_length=15, blank=True, default="")
    # where the provider holds and reviews templates (WhatsApp): the account, Meta's id and verdict
    account = models.ForeignKey(
        ProviderAccount,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="templates",
    )
    language = models.CharField(_("language"), max_length=15, blank=True, default="")
    category = models.CharField(_("category"), max_length=20, blank=True, default="")
    status = models.CharField(_("review status"), max_length=30, blank=True, default="")
    status_reason = models.CharField(_("status reason"), max_length=255, blank=True, default="")
    provider_id = models.CharField(_("provider template id"), max_length=64, blank=True, default="")
    components = models.JSONField(_("components"), default=list, blank=True)
    variables = models.JSONField(_("variable bindings"), default=dict, blank=True)
    status_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "channels_sms_smstemplate"
        verbose_name = _("template")
        verbose_name_plural = _("templates")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(channel=Channel.SMS),
                name="template_sms_name_once",
                violation_error_message=_("An SMS template with this name exists."),
            ),
            models.UniqueConstraint(
                fields=["account", "name", "language"],
                condition=Q(channel=Channel.WHATSAPP),
                name="template_whatsapp_once",
                violation_error_message=_("This account has a template with this name in this language."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})" if self.language else self.name


class SendingPolicy(models.Model):
    """One row: the frequency cap and quiet hours for newsletters of every campaign and journey
    (product.md Journeys; messaging.policy applies it when each message is sent). Transactional
    messages bypass both, and a message that did says so (Message.policy_bypass)."""

    newsletters_per_day = models.PositiveSmallIntegerField(
        _("newsletters per contact per day"), null=True, blank=True, help_text=_("In any 24 hours. Empty: no cap.")
    )
    newsletters_per_week = models.PositiveSmallIntegerField(
        _("newsletters per contact per week"), null=True, blank=True, help_text=_("In any 7 days. Empty: no cap.")
    )
    quiet_from = models.TimeField(
        _("quiet hours from"), null=True, blank=True, help_text=_("Europe/Istanbul, e.g. 21:00. Empty: none.")
    )
    quiet_until = models.TimeField(_("quiet hours until"), null=True, blank=True, help_text=_("E.g. 09:00."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sending policy")
        verbose_name_plural = _("sending policy")

    def __str__(self) -> str:
        return str(_("Frequency cap and quiet hours"))


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Every contact")
    LIST = "list", _("A static list")
    SEGMENT = "segment", _("A segment (contacts matching conditions)")
    FILTER = "filter", _("Contacts matching a filter (before segments)")  # saved before segments existed
    ALERT = "alert", _("An alert to one fixed number")


class Segment(models.Model):
    """A saved audience: conditions built in the panel (messaging.segments says which), counted
    live and used by campaigns and journeys. Who is in it is worked out when it is used."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True, default="")
    definition = models.JSONField(_("conditions"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("audience", "segment")  # not an SMS segment (a part of a long SMS)
        verbose_name_plural = pgettext_lazy("audience", "segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.SMS)
    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.NEWSLETTER)
    account = models.ForeignKey(
        ProviderAccount,
        verbose_name=_("provider account"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    sender = models.CharField(_("sender name"), max_length=15)
    template = models.ForeignKey(Template, verbose_name=_("template"), null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField(_("custom text"), blank=True, default="", help_text=_("Used when no template is chosen."))
    # the campaign's own bindings of the template's variables, over the template's (WhatsApp)
    variables = models.JSONField(_("variable bindings"), default=dict, blank=True)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices, default=Audience.EVERYONE)
    contact_list = models.ForeignKey(
        ContactList, verbose_name=_("list"), null=True, blank=True, on_delete=models.PROTECT
    )
    segment = models.ForeignKey(
        Segment,
        verbose_name=pgettext_lazy("audience", "segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    audience_filter = models.JSONField(
        _("filter"),
        default=dict,
        blank=True,
        help_text=_('Contact fields and profile attributes, e.g. {"city": "İzmir", "sms_subscription": "subscribed"}.'),
    )
    alert_phone = models.CharField(_("alert phone number"), max_length=16, blank=True, default="")
    send_at = models.DateTimeField(_("send at"), null=True, blank=True, help_text=_("Empty: send now."))
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    # why sending stopped by itself (the provider asked to stop, the account failed): for the admin
    status_reason = models.CharField(_("status reason"), max_length=255, blank=True, default="", editable=False)
    message_count = models.IntegerField(_("messages"), default=0)
    excluded = models.JSONField(_("excluded at start"), default=dict, blank=True)
    # the message rows are made in chunks of contacts (by id) while the first ones are sent
    prepared_up_to = models.BigIntegerField(default=0, editable=False)
    prepared_at = models.DateTimeField(_("all messages made"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # who chose "transactional" (subscription and İYS are then not checked), kept past the user's deletion
    transactional_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("transactional chosen by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    transactional_chosen_by_name = models.CharField(
        _("transactional chosen by"), max_length=150, blank=True, default="", editable=False
    )
    transactional_chosen_at = models.DateTimeField(_("transactional chosen at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        db_table = "channels_sms_campaign"
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        permissions = [
            (
                "send_transactional",
                _("Can choose transactional (subscription and İYS are not checked)"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def body(self) -> str:
        if self.kind == MessageKind.TRANSACTIONAL and self.transactional_chosen_at:
            return self.text  # the text the chooser confirmed (a copy: the template may change since)
        return self.template.text if self.template_id else self.text


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    QUEUED = DeliveryStatus.QUEUED.value, DeliveryStatus.QUEUED.label
    SENT = DeliveryStatus.SENT.value, DeliveryStatus.SENT.label
    DELIVERED = DeliveryStatus.DELIVERED.value, DeliveryStatus.DELIVERED.label
    UNDELIVERED = DeliveryStatus.UNDELIVERED.value, DeliveryStatus.UNDELIVERED.label
    EXPIRED = DeliveryStatus.EXPIRED.value, DeliveryStatus.EXPIRED.label
    REJECTED = DeliveryStatus.REJECTED.value, DeliveryStatus.REJECTED.label
    FAILED = DeliveryStatus.FAILED.value, DeliveryStatus.FAILED.label
    SKIPPED = "skipped", _("Not sent: the sending rule refused it at send time")
    CANCELLED = "cancelled", _("Not sent: campaign cancelled")


class Message(models.Model):
    id = models.BigAutoField(primary_key=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.SMS)
    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,  # message_campaign_status leads with it: every index costs each message write
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,  # message_contact_created leads with it
    )
    # the contact the message was made for, kept when the contact is deleted (contact becomes NULL):
    # a message made for a contact is never sent once that contact is gone; only alerts have none
    addressed_contact_id = models.BigIntegerField(_("made for contact (id)"), null=True, blank=True, editable=False)
    account = models.ForeignKey(
        ProviderAccount,
        verbose_name=_("provider account"),
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,  # message_provider_id leads with it
    )
    to = models.CharField(_("to"), max_length=32)
    sender = models.CharField(_("sender"), max_length=15, blank=True, default="")
    text = models.TextField(_("text"), blank=True, default="")
    # a single message of a template (WhatsApp): the template and the values given for its variables
    # (no index, no constraint: every index costs each message write; a deleted template fails the
    # pending messages that name it, at send time)
    template = models.ForeignKey(
        Template,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    parameters = models.JSONField(_("variable values"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=255, blank=True, default="")
    raw_status = models.CharField(_("provider status"), max_length=120, blank=True, default="")
    provider_id = models.CharField(_("provider message id"), max_length=80, blank=True, default="")
    segments = models.SmallIntegerField(_("segments"), null=True, blank=True)
    encoding = models.CharField(_("encoding"), max_length=60, blank=True, default="")
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=5, null=True, blank=True)
    attempts = models.SmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    handed_at = models.DateTimeField(null=True, blank=True, editable=False)  # the request went out
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("accepted by the provider"), null=True, blank=True)
    done_at = models.DateTimeField(_("final status at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)  # WhatsApp: the recipient opened it
    # who made a message outside a campaign: "API key 'crm' (Ab12Cd34)", a journey, a user's command
    origin = models.CharField(_("made by"), max_length=120, blank=True, default="", db_default="")
    # a transactional message sent in quiet hours or over the frequency cap (messaging.policy)
    policy_bypass = models.CharField(
        _("sending policy bypassed"), max_length=120, blank=True, default="", db_default=""
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "channels_sms_message"
        verbose_name = _("message")
        verbose_name_plural = _("message history")
        ordering = ["-id"]
        constraints = [
            # exactly once: one message per (campaign, contact)
            models.UniqueConstraint(
                fields=["campaign", "contact"],
                condition=Q(campaign__isnull=False, contact__isnull=False),
                name="message_once_per_campaign_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            models.Index(fields=["contact", "created_at"], name="message_contact_created"),
            models.Index(fields=["account", "provider_id"], name="message_provider_id"),
            # the dispatcher's claim: ORDER BY id LIMIT n over a campaign's unclaimed pending rows only
            models.Index(
                fields=["campaign", "id"], name="message_claimable", condition=Q(status="pending", claim__isnull=True)
            ),
            models.Index(fields=["created_at"], name="message_created"),
            # a batch's rows by its claim, and stale claims by their age: only messages in flight are in it
            models.Index(fields=["claim", "claimed_at"], name="message_claimed", condition=Q(claim__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.to}"

    @property
    def key(self) -> str:
        return message_key(self.pk)


class MessageStatusEvent(models.Model):
    """A message's status history: one row per forward move (messaging.delivery, the one status
    write path), never edited. The message's creation is its created_at; read (WhatsApp) is a row
    too. No database constraint on the key: rows are written only with ids just locked."""

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="status_events", db_constraint=False, editable=False
    )
    status = models.CharField(_("status"), max_length=20)
    raw_status = models.CharField(_("provider status"), max_length=120, blank=True, default="")
    reason = models.CharField(_("reason"), max_length=255, blank=True, default="")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["message", "at"], name="message_status_event")]

    def __str__(self) -> str:
        return f"{self.status} at {timezone.localtime(self.at):%Y-%m-%d %H:%M:%S}"


def message_key(pk: int) -> str:
    """Our message id on the wire (Infobip messageId, Instasent clientId ≤ 40 chars): unique per
    installation, so two panels sharing a provider account never collide."""
    return f"{settings.MESSAGE_ID_PREFIX}-{pk}"


def message_pk(key: str) -> int | None:
    prefix, _sep, number = key.rpartition("-")
    if prefix != settings.MESSAGE_ID_PREFIX or not (number.isascii() and number.isdigit()) or len(number) > 18:
        return None  # not one of ours: another prefix, "²", or past the id column's range
    return int(number)


from messaging.handoff import HandedBatch  # noqa: E402, F401  (a model of this app, in its own module)
