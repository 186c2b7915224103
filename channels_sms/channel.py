"""The SMS channel's adapter to the messaging core (messaging.channels): messages go to the
contact's phone, the text is the template's or the campaign's with its variables filled in, and it
is counted in segments the way the account's provider counts them (encoding.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from channels_sms.encoding import count_segments, normalise, profile_for
from consent.models import MessageKind, RecipientType
from consent.services import consent_refused_by_provider
from messaging.channels import Composed, MessageCost
from messaging.rendering import render
from providers.base import Channel, OutboundMessage
from providers.sms import sender_problem


class SmsChannel:
    channel = Channel.SMS
    address_field = "phone"

    def campaign_problems(self, campaign) -> dict[str, str]:
        errors = {}
        if problem := sender_problem(campaign.sender):
            errors["sender"] = problem
        if not (campaign.body or "").strip():
            errors["text"] = "the message has no text: choose a template or write a custom text"
        return errors

    def default_sender(self, campaign) -> str:
        return (campaign.template.sender if campaign.template_id else "") or campaign.account.settings.get("sender", "")

    def campaign_content(self, campaign) -> str:
        return campaign.body

    def preview_text(self, campaign, values: dict) -> tuple[str, list[str]]:
        return render(campaign.body, values)

    def compose(self, *, connector, row: dict, content, values: dict) -> Composed | str:
        template = content if content is not None else row["text"]
        text = normalise(render(template, values)[0])
        if not text.strip():
            return "the text is empty once its variables are filled in"
        segmentation = count_segments(text, profile=profile_for(connector))
        return Composed(
            outbound=OutboundMessage(
                key=row["key"],
                to=row["to"],
                text=text,
                sender=row["sender"],
                commercial=row["kind"] == MessageKind.NEWSLETTER,
                recipient_type=RecipientType.BIREYSEL,
            ),
            changes={"text": text, "segments": segmentation.segments, "encoding": segmentation.encoding},
        )

    def message_cost(self, *, connector, campaign, text: str) -> MessageCost:
        seg = count_segments(text, profile=profile_for(connector))
        details = _(
            "%(encoding)s · %(characters)d characters · %(segments)d segment(s) (%(left)d left in the last one)"
        ) % {
            "encoding": seg.encoding,
            "characters": seg.characters,
            "segments": seg.segments,
            "left": seg.remaining,
        }
        return MessageCost(
            units=seg.segments,
            unit_price=connector.price_per_segment,
            details=details,
            unit_label=_("segments"),
            no_price=_("set a price per segment on the provider account to see it"),
        )

    def consent_refused(self, *, recipients: list[str], account) -> None:
        """A provider's İYS refusal: a RET in the ledger by the brand's decision (not sent to İYS)."""
        consent_refused_by_provider(recipients=recipients, origin_ref=f"provider account {account.pk}")
