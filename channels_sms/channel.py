"""The SMS channel's adapter to the messaging core (messaging.channels): messages go to the
contact's phone, the text is the template's or the campaign's with its variables filled in, and it
is counted in segments the way the account's provider counts them (encoding.py)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from channels_sms.encoding import count_segments, encoding_label, normalise, profile_for
from consent.contact_changes import consent_opt_out_by_reply, consent_refused_by_provider
from consent.models import MessageKind, RecipientType
from contacts.phones import to_e164
from contacts.services import contacts_mark_bounced
from messaging.channels import Composed, MessageCost
from messaging.rendering import render, required_variables
from providers.base import Channel, OutboundMessage
from providers.sms import sender_problem

logger = logging.getLogger(__name__)


class SmsChannel:
    channel = Channel.SMS
    address_field = "phone"
    transactional_skips_consent = True

    def derived_kind(self, campaign) -> str | None:
        return None  # the user chooses (transactional needs the permission)

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

    def required_sources(self, campaign) -> list[tuple[str, str]]:
        return [("{{" + name + "}}", name) for name in required_variables(campaign.body or "")]

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
            "encoding": encoding_label(seg.encoding),
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

    def command_campaign_fields(self, *, account, options: dict) -> dict:
        text = options.get("text")
        if not text:
            raise ValueError("--text is required with --list")
        return {"text": text, "kind": options["kind"], "sender": options.get("sender") or "", "title": text[:40]}

    def consent_refused(self, *, recipients: list[str], account) -> None:
        """A provider's İYS refusal: a RET in the ledger by the brand's decision (not sent to İYS)."""
        consent_refused_by_provider(recipients=recipients, origin_ref=f"provider account {account.pk}")

    def recipients_bounced(self, *, recipients: list[str], account) -> None:
        contacts_mark_bounced(phones=recipients)

    def handle_inbound(self, *, account, inbound: list) -> None:
        """An SMS STOP reply is a RET collected by SMS (HS_MESAJ); a sender that is not a valid
        phone number never reaches the ledger (logged, dropped)."""
        phones = set()
        for message in inbound:
            if not message.stop:
                continue
            phone = to_e164(message.sender, default_region=None)
            if phone is None:
                logger.warning("account %s: STOP reply from %r ignored: not a valid phone number", account.pk,
                               message.sender)  # fmt: skip
            else:
                phones.add(phone)
        if phones:
            consent_opt_out_by_reply(recipients=sorted(phones), origin_ref=f"provider account {account.pk}")

    def content_problems(
        self, *, account, kind: str, text: str, template: str, language: str, sender: str
    ) -> list[str]:
        from channels_sms.models import SmsTemplate

        problems = []
        preset = SmsTemplate.objects.filter(name=template).first() if template else None
        if template and preset is None:
            problems.append(f"there is no SMS template named '{template}'")
        if not template and not text.strip():
            problems.append("the message has no text")
        if problem := sender_problem(sender or (preset.sender if preset else "") or account.settings.get("sender", "")):
            problems.append(problem)
        return problems

    def single_message(
        self, *, account, kind: str, to: str, contact, text: str, template: str, language: str,
        placeholders: dict, sender: str,
    ):  # fmt: skip
        from channels_sms.services import sms_message

        return sms_message(
            account=account, kind=kind, to=to, contact=contact, text=text, template=template,
            placeholders=placeholders, sender=sender,
        )  # fmt: skip
