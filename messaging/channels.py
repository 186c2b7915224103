"""Where a channel plugs into the core. The core (campaigns, message rows, claims, dispatch, the
status write path, statistics) is the same for every channel; what differs is said by the
channel's adapter, listed by dotted path in settings.MESSAGING_CHANNELS (so messaging imports no
channel app, and no channel app imports another):
- which contact field a message goes to (`address_field`);
- what a campaign must have besides the common checks (`campaign_problems`);
- what each message of a campaign renders (`campaign_content`) and how one claimed row becomes a
  request to the provider (`compose`: text, segments, template parameters);
- what one message costs in the preview (`message_cost`), and which variables need a contact's
  value (`required_sources`: the preview counts the contacts without one);
- how one message outside a campaign is made (`single_message`: the API, journeys) and what
  keeps a text or template from being sent (`content_problems`: a journey's activation);
- what a provider's consent refusal, a bounce and an inbound message mean (`consent_refused`,
  `recipients_bounced`, `handle_inbound`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from providers.base import OutboundMessage


@dataclass(frozen=True)
class Composed:
    """One claimed message, ready to go: the request and what the row records of it."""

    outbound: OutboundMessage
    changes: dict = field(default_factory=dict)  # text, to, segments, encoding …


@dataclass(frozen=True)
class MessageCost:
    """What one message costs, for the preview: `units` billed per message (SMS segments, one
    WhatsApp message), their price, and the details in words."""

    units: int
    unit_price: Decimal | None
    details: str = ""
    unit_label: str = ""  # "segments", "messages": what `units` counts, in the user's language
    no_price: str = ""  # what to do to see a cost when unit_price is None

    @property
    def price(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.units


class ChannelAdapter(Protocol):
    channel: str
    address_field: str
    # SMS: a transactional message skips the subscription and İYS checks, so choosing it is a
    # permission (messaging.send_transactional); WhatsApp: it skips nothing (opt-in either way)
    transactional_skips_consent: bool

    def derived_kind(self, campaign) -> str | None:
        """The kind the campaign's content implies (a WhatsApp template's category), or None."""
        ...

    def campaign_problems(self, campaign) -> dict[str, str]: ...

    def default_sender(self, campaign) -> str: ...

    def campaign_content(self, campaign) -> object: ...

    def preview_text(self, campaign, values: dict) -> tuple[str, list[str]]:
        """The message a contact with `values` would get, and the variables it had no value for."""
        ...

    def required_sources(self, campaign) -> list[tuple[str, str]]:
        """(variable as written, contact field or attribute) for each variable with no default:
        the preview counts the contacts without a value for it."""
        ...

    def compose(self, *, connector, row: dict, content: object, values: dict) -> Composed | str:
        """The request for one row (its fields: pk, kind, to, sender, text), `content` from
        campaign_content (None for a single message: the row's text is what it sends) and the
        contact's values; or the reason it cannot be sent (the row fails with it)."""
        ...

    def message_cost(self, *, connector, campaign, text: str) -> MessageCost: ...

    def command_campaign_fields(self, *, account, options: dict) -> dict:
        """send_campaign's options as campaign fields, plus a short "title" for its name; a
        ValueError says what is missing or wrong."""
        ...

    def consent_refused(self, *, recipients: list[str], account) -> None:
        """The provider refused these recipients for want of consent: the ledger hears of it."""
        ...

    def recipients_bounced(self, *, recipients: list[str], account) -> None:
        """The provider says these addresses do not exist (a bounce)."""
        ...

    def handle_inbound(self, *, account, inbound: list) -> None:
        """Messages from people (providers.base.InboundMessage): STOP words, windows opened."""
        ...

    def content_problems(
        self, *, account, kind: str, text: str, template: str, language: str, sender: str
    ) -> list[str]:
        """What keeps a message of this text or template from being sent through `account`, in
        words (a journey's send step, checked when the journey is activated)."""
        ...

    def single_message(
        self, *, account, kind: str, to: str, contact, text: str, template: str, language: str,
        placeholders: dict, sender: str,
    ):  # fmt: skip
        """One message outside a campaign, not yet saved (messaging.models.Message), to `to` or to
        `contact`'s address; text, or the channel's template called `template` with `placeholders`
        for its variables. A django ValidationError names the field that is wrong."""
        ...


@cache
def adapter(channel: str) -> ChannelAdapter:
    try:
        path = settings.MESSAGING_CHANNELS[channel]
    except KeyError:
        raise LookupError(f"no channel {channel!r} is installed (settings.MESSAGING_CHANNELS)") from None
    return import_string(path)()


def needs_confirmation(campaign) -> bool:
    """A transactional campaign on a channel where that skips consent checks (SMS): someone allowed
    to choose it must have confirmed it (messaging.services.campaign_record_kind)."""
    return campaign.kind == "transactional" and adapter(campaign.channel).transactional_skips_consent
