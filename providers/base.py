"""The connector interface. Each provider is one module registered by name in registry.py;
nothing outside providers/ knows a provider's wire format (CONVENTIONS: connectors are plug-ins)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django import forms
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Channel(TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    IYS = "iys", _("İYS (consent registry)")


class TransportError(Exception):
    """A provider call failed. `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False, code: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str


class Connector:
    """Subclass per provider. `config_form` lists every setting; `secret_fields` are the ones
    stored encrypted and never shown back."""

    name: str = ""
    label: str = ""
    channel: str = Channel.SMS
    config_form: type[forms.Form] = forms.Form
    secret_fields: tuple[str, ...] = ()

    def __init__(self, *, settings: dict, credentials: dict):
        self.settings = settings
        self.credentials = credentials

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.name}>"

    def test_connection(self) -> CheckResult:
        raise NotImplementedError


# --- messaging connectors (SMS now, WhatsApp next): providers.md §0 ------------------------------


class DeliveryStatus(TextChoices):
    """The common delivery-status model (providers.md §0.1)."""

    QUEUED = "queued", _("Queued at the provider")
    SENT = "sent", _("Sent to the operator")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    EXPIRED = "expired", _("Expired")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


FINAL_STATUSES = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.UNDELIVERED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.REJECTED,
        DeliveryStatus.FAILED,
    }
)


class SendError(TransportError):
    """A whole send request failed. `retry_after` (seconds) when the provider said when to come
    back; `maybe_sent` when the request may have reached the provider (read timeout, 5xx)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        code: str = "",
        retry_after: float | None = None,
        maybe_sent: bool = False,
        status: str = "",
    ):
        super().__init__(message, permanent=permanent, code=code)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        # for a permanent error, the messages' status: rejected by default, failed for account problems
        self.status = status


@dataclass(frozen=True)
class OutboundMessage:
    key: str  # our message id: the provider's idempotency key / client reference where it has one
    to: str  # E.164 with "+"
    text: str
    sender: str
    commercial: bool  # newsletter: İYS-checked at providers that check (Infobip turkeyIys, Netgsm iysfilter)
    recipient_type: str = "BIREYSEL"
    # WhatsApp: an approved template (empty name: free text, only inside the 24-hour window)
    template_name: str = ""
    template_language: str = ""
    template_components: tuple = ()  # the send components, built by providers.whatsapp.templates


@dataclass(frozen=True)
class SendResult:
    """The provider's answer for one message of a batch: an acceptance, rarely an outcome."""

    key: str
    status: str  # a DeliveryStatus
    provider_id: str = ""
    raw_status: str = ""
    error: str = ""
    segments: int | None = None
    consent_refused: bool = False


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery report, from a webhook or a poll. `key` is our message id when the provider
    echoes it; otherwise `provider_id` finds the message."""

    status: str
    key: str = ""
    provider_id: str = ""
    raw_status: str = ""
    error: str = ""
    bounce: bool = False  # the number does not exist / is out of service: mark the phone Bounced
    consent_refused: bool = False  # İYS (through the provider) has no consent: a consent signal
    price: Decimal | None = None
    segments: int | None = None
    done_at: datetime | None = None
    read_at: datetime | None = None  # WhatsApp "read": delivered, plus when it was read (§0.1)
    retryable: bool = False  # failed before delivery for a passing reason (WhatsApp throughput): safe to resend


@dataclass(frozen=True)
class InboundMessage:
    sender: str  # E.164
    text: str
    stop: bool  # an opt-out (STOP) the provider recognised
    provider_id: str = ""
    received_at: datetime | None = None  # WhatsApp: opens the 24-hour customer service window


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """A template's review outcome or later change pushed by the provider (WhatsApp §6.5)."""

    template_id: str
    name: str
    language: str
    status: str  # APPROVED, REJECTED, PAUSED, DISABLED, ... as the provider spells it
    reason: str = ""  # in words, for REJECTED / PAUSED / DISABLED
    category: str = ""


@dataclass
class WebhookEvents:
    reports: list[DeliveryReport] = field(default_factory=list)
    inbound: list[InboundMessage] = field(default_factory=list)
    template_updates: list[TemplateStatusUpdate] = field(default_factory=list)
    # the items skipped and why, logged with the account id: one bad item never costs the good ones
    problems: list[str] = field(default_factory=list)


class WebhookRejected(Exception):
    """The request is not from the provider (bad signature) or is not a payload we understand."""


class MessagingConnector(Connector):
    """A connector that sends messages. `max_batch`: messages per request. `idempotent`: the
    provider dedups on our key, so a batch whose outcome is unknown may be sent again.
    `polls_reports`: reports come from `poll_reports` (no webhook). `nli`: whether the provider
    takes Turkish national language shift tables (providers.md §7.4). `one_per_request`: the
    provider takes one message a request (WhatsApp); the dispatcher then claims up to `max_batch`
    and calls `send_each`, which gives each message its own outcome."""

    max_batch: int = 100
    one_per_request: bool = False
    idempotent: bool = False
    polls_reports: bool = False
    has_webhook: bool = False
    nli: bool = False

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        raise NotImplementedError

    def send_each(self, messages: list[OutboundMessage]) -> list[SendResult | SendError]:
        """One request per message (`one_per_request`): for each message in order, the provider's
        answer, or the SendError that concerns this message alone."""
        raise NotImplementedError

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvents:
        raise WebhookRejected("this connector takes no webhooks")

    def verify_webhook(self, *, body: bytes, headers: dict[str, str]) -> bool:
        """The provider's own signature, where it has one; the URL secret is checked before."""
        return True

    def poll_reports(self, *, messages: list[tuple[str, str]]) -> list[DeliveryReport]:
        """Reports for (key, provider_id) pairs still waiting for a final status."""
        return []

    @property
    def rate_limit(self) -> float:
        return float(self.settings.get("rate_limit") or 0)

    @property
    def price_per_segment(self) -> Decimal | None:
        value = self.settings.get("price_per_segment")
        return Decimal(str(value)) if value not in (None, "") else None
