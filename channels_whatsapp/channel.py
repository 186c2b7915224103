"""The WhatsApp channel's adapter to the messaging core (messaging.channels): messages go to the
contact's WhatsApp number, a campaign sends an approved template with its variables filled in for
each contact (rendering.py), and a single message is a template, or free text inside the 24-hour
window the person opened. The kind follows the template's category (marketing is a newsletter,
utility and authentication transactional); opt-in is needed for both, so choosing transactional
skips no check here and needs no permission."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels_whatsapp.models import Category, TemplateStatus
from channels_whatsapp.rendering import binding_problems, fill, merged_bindings, required_sources
from channels_whatsapp.windows import window_open, windows_opened
from consent.contact_changes import consent_whatsapp_opt_out
from consent.models import ChangeOrigin, MessageKind
from contacts.phones import to_e164
from messaging.channels import Composed, MessageCost
from messaging.models import Template
from providers.base import Channel, OutboundMessage

logger = logging.getLogger(__name__)

KIND_OF_CATEGORY = {
    Category.MARKETING: MessageKind.NEWSLETTER,
    Category.UTILITY: MessageKind.TRANSACTIONAL,
    Category.AUTHENTICATION: MessageKind.TRANSACTIONAL,
}
SHORT_CATEGORY = {
    Category.MARKETING: gettext_lazy("Marketing"),
    Category.UTILITY: gettext_lazy("Utility"),
    Category.AUTHENTICATION: gettext_lazy("Authentication"),
}
OUTSIDE_WINDOW = (
    "free text may be sent only within 24 hours of the person's last message to this number; "
    "send an approved template instead"
)


@dataclass(frozen=True)
class Content:
    template: Template
    bindings: dict


def parse_vars(specs: list[str], *, literal: bool = False) -> dict:
    """--var [PART.]N=FIELD[|DEFAULT] → bindings (literal: --var [PART.]N=VALUE, a single send's values)."""
    bindings: dict = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        part, dot, number = key.rpartition(".")
        if not sep or not number.strip():
            raise ValueError(f"--var {spec!r}: write it as 1=FIELD, or body.1=FIELD|default")
        part = part.strip() if dot else "body"
        if part not in ("header", "body") and not (part.startswith("button:") and part[7:].isdigit()):
            raise ValueError(f"--var {spec!r}: the part is header, body or button:N")
        if literal:
            entry = {"value": value}
        else:
            source, _bar, default = value.partition("|")
            entry = {"source": source.strip(), "default": default.strip()}
        bindings.setdefault(part, {})[number.strip()] = entry
    return bindings


def kind_for(template: Template) -> str:
    return KIND_OF_CATEGORY.get(template.category, MessageKind.NEWSLETTER)


def template_refusal(template: Template | None, account_id: int | None) -> str | None:
    """Why this template cannot start a conversation, in words; None when it can."""
    if template is None or template.channel != Channel.WHATSAPP:
        return "choose an approved WhatsApp template"
    if account_id and template.account_id != account_id:
        return f"the template {template.name} belongs to another WhatsApp account"
    if template.status != TemplateStatus.APPROVED:
        known = template.status in TemplateStatus.values
        with translation.override("en"):  # a stored reason, in one language (as every send reason)
            label = str(TemplateStatus(template.status).label) if known else template.status
        reason = f" ({template.status_reason})" if template.status_reason else ""
        state = f"{template.name} ({template.language}) is {label.lower()}{reason}"
        return f"the template {state}: only an approved template can be sent"
    return None


class WhatsAppChannel:
    channel = Channel.WHATSAPP
    address_field = "whatsapp_number"
    transactional_skips_consent = False

    def derived_kind(self, campaign) -> str | None:
        return kind_for(campaign.template) if campaign.template_id else None

    def campaign_problems(self, campaign) -> dict[str, str]:
        template = campaign.template if campaign.template_id else None
        if refusal := template_refusal(template, campaign.account_id):
            return {"template": refusal}
        problems = binding_problems(template.components, merged_bindings(template.variables, campaign.variables))
        return {"template": "; ".join(problems)} if problems else {}

    def default_sender(self, campaign) -> str:
        return ""  # the sender is the account's phone number

    def campaign_content(self, campaign) -> Content:
        return Content(
            template=campaign.template, bindings=merged_bindings(campaign.template.variables, campaign.variables)
        )

    def preview_text(self, campaign, values: dict) -> tuple[str, list[str]]:
        if not campaign.template_id:
            return "", []
        filled = fill(
            campaign.template.components, merged_bindings(campaign.template.variables, campaign.variables), values
        )
        return filled.text, filled.missing

    def required_sources(self, campaign) -> list[tuple[str, str]]:
        if not campaign.template_id:
            return []
        bindings = merged_bindings(campaign.template.variables, campaign.variables)
        return required_sources(campaign.template.components, bindings)

    def compose(self, *, connector, row: dict, content, values: dict) -> Composed | str:
        if content is None and row.get("template_id") is None:  # free text: a reply inside the window
            if not row["text"].strip():
                return "the message has no text"
            if not window_open(account_id=row["account_id"], number=row["to"]):
                return OUTSIDE_WINDOW
            outbound = OutboundMessage(key=row["key"], to=row["to"], text=row["text"], sender="", commercial=False)
            return Composed(outbound=outbound, changes={"text": row["text"]})
        if content is None:
            template = Template.objects.filter(pk=row["template_id"]).first()
            content = Content(template=template, bindings=row.get("parameters") or {}) if template else None
            if content is None:
                return "the template was deleted"
        if refusal := template_refusal(content.template, row["account_id"]):
            return refusal  # approved when the campaign started, not any more (paused, disabled)
        filled = fill(content.template.components, content.bindings, values)
        if filled.missing:  # the reason is stored and in the API: English, as every send reason
            with translation.override("en"):  # (only then: switching languages costs more than the filling)
                filled = fill(content.template.components, content.bindings, values)
            return "no value and no default for " + ", ".join(filled.missing)
        outbound = OutboundMessage(
            key=row["key"],
            to=row["to"],
            text=filled.text,
            sender="",
            commercial=row["kind"] == MessageKind.NEWSLETTER,
            template_name=content.template.name,
            template_language=content.template.language,
            template_components=filled.components,
        )
        return Composed(outbound=outbound, changes={"text": filled.text})

    def message_cost(self, *, connector, campaign, text: str) -> MessageCost:
        template = campaign.template
        category = template.category if template else ""
        label = str(SHORT_CATEGORY.get(category, category))
        return MessageCost(
            units=1,
            unit_price=connector.price_for(category) if category else None,
            details=_("%(category)s template · %(language)s")
            % {"category": label, "language": template.language if template else ""},
            unit_label=_("messages"),
            no_price=_("set the price of a %(category)s message on the WhatsApp account to see it")
            % {"category": label.lower()},
        )

    def command_campaign_fields(self, *, account, options: dict) -> dict:
        name, language = options.get("template"), options.get("language") or "tr"
        if not name:
            raise ValueError("--template is required with --channel whatsapp")
        template = Template.objects.filter(
            channel=Channel.WHATSAPP, account=account, name=name, language=language
        ).first()
        if template is None:
            raise ValueError(
                f"the account {account.name} has no template {name!r} in {language!r} (whatsapp_templates_sync?)"
            )
        return {
            "template": template,
            "variables": parse_vars(options.get("var") or []),
            "title": f"{name} ({language})",
        }

    def consent_refused(self, *, recipients: list[str], account) -> None:
        """Meta's 131050: the person stopped marketing messages from this business (a RET in the ledger)."""
        consent_whatsapp_opt_out(
            numbers=recipients,
            origin=ChangeOrigin.PROVIDER,
            origin_ref=f"WhatsApp error 131050 (provider account {account.pk})",
        )

    def recipients_bounced(self, *, recipients: list[str], account) -> None:
        # not a WhatsApp user (131026) says nothing about the phone's SMS: the message failed, that is all
        logger.info("account %s: %d number(s) cannot receive WhatsApp", account.pk, len(recipients))

    def handle_inbound(self, *, account, inbound: list) -> None:
        """Every message from a person opens the 24-hour window; a STOP (or the stop button) is a
        WhatsApp RET in the ledger, dated when it was sent, never an opt-out of SMS. A sender that is
        not a phone number never reaches the ledger."""
        windows_opened(account=account, inbound=inbound)
        stops = [
            (number, m.received_at) for m in inbound if m.stop and (number := to_e164(m.sender, default_region=None))
        ]
        for number, at in stops:
            consent_whatsapp_opt_out(
                numbers=[number],
                origin=ChangeOrigin.INBOUND,
                origin_ref=f"WhatsApp reply (provider account {account.pk})",
                at=at,
            )
        if stops:
            logger.info("account %s: %d WhatsApp opt-out(s) from replies", account.pk, len(stops))

    def content_problems(
        self, *, account, kind: str, text: str, template: str, language: str, sender: str
    ) -> list[str]:
        from django.core.exceptions import ValidationError

        from channels_whatsapp.single import whatsapp_template_named

        try:
            found = whatsapp_template_named(account=account, name=template, language=language)
        except ValidationError as exc:
            return exc.messages
        if refusal := template_refusal(found, account.pk):
            return [refusal]
        if kind and kind != kind_for(found):
            return [f"the template {found.name} is {found.category.lower()}, so its kind is {kind_for(found)}"]
        return []

    def single_message(
        self, *, account, kind: str, to: str, contact, text: str, template: str, language: str,
        placeholders: dict, sender: str,
    ):  # fmt: skip
        from django.core.exceptions import ValidationError

        from channels_whatsapp.single import whatsapp_message

        if sender:
            raise ValidationError({"sender": "a WhatsApp message is sent from the account's number: leave sender out"})
        found = _template_named(account, template, language) if template else None
        values = _part_values(placeholders)
        message = whatsapp_message(account=account, to=to, contact=contact, template=found, values=values, text=text)
        if kind and found is not None and kind != message.kind:
            raise ValidationError(
                {"kind": f"the template {found.name} is {found.category.lower()}, so its kind is {message.kind}"}
            )
        return message


def _template_named(account, name: str, language: str):
    """whatsapp_template_named, kept on the account instance: a journey step makes a message per
    contact of its batch with one account read for the batch (a query per message otherwise)."""
    from channels_whatsapp.single import whatsapp_template_named

    found = account.__dict__.setdefault("_templates_named", {})
    if (name, language) not in found:
        found[(name, language)] = whatsapp_template_named(account=account, name=name, language=language)
    return found[(name, language)]


def _part_values(placeholders: dict) -> dict[str, dict[str, str]]:
    """{"1": "Ayşe"} fills the body; {"body": {"1": …}, "header": {…}, "button:0": {…}} any part."""
    values: dict[str, dict[str, str]] = {}
    for name, value in (placeholders or {}).items():
        if isinstance(value, dict):
            values.setdefault(name, {}).update({str(k): str(v) for k, v in value.items()})
        else:
            values.setdefault("body", {})[str(name)] = str(value)
    return values
