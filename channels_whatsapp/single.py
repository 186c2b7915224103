"""A single WhatsApp message (whatsapp_send, the contact page, the API): an approved template
with values for its variables, or free text inside the 24-hour window the person opened; then the
core's single-message path (the sending rule, the exactly-once row, the provider call)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from channels_whatsapp.channel import OUTSIDE_WINDOW, kind_for, template_refusal
from channels_whatsapp.models import WhatsAppTemplate
from channels_whatsapp.rendering import binding_problems
from channels_whatsapp.services import whatsapp_account
from channels_whatsapp.windows import window_open
from contacts.models import Contact
from contacts.phones import to_e164
from messaging.models import Message
from messaging.services import message_send_now
from providers.base import Channel
from providers.models import ProviderAccount


def whatsapp_message(
    *,
    account: ProviderAccount,
    to: str = "",
    contact: Contact | None = None,
    template: WhatsAppTemplate | None = None,
    values: dict[str, dict[str, str]] | None = None,
    text: str = "",
) -> Message:
    """One WhatsApp message, not yet saved, to `to` (the contact holding that WhatsApp number, if
    any) or to `contact`'s WhatsApp number. Its kind follows the template's category; free text is
    a reply (transactional) and is sent only inside the window."""
    whatsapp_account(account)
    if contact is not None:
        if not contact.whatsapp_number:
            raise ValidationError(
                {"contact": f"the contact {contact.external_id or contact.pk} has no WhatsApp number"}
            )
        number = contact.whatsapp_number
    else:
        number = to_e164(to)
        if number is None:
            raise ValidationError({"to": f"'{to}' is not a valid phone number"})
        contact = Contact.objects.filter(whatsapp_number=number).first()
    if (template is None) == (not text.strip()):
        raise ValidationError({"template": "give either a template or a text"})
    if template is not None:
        if refusal := template_refusal(template, account.pk):
            raise ValidationError({"template": refusal})
        bindings = _merge_values(template.variables, values or {})
        if problems := binding_problems(template.components, bindings):
            raise ValidationError({"template": "; ".join(problems)})
        kind = kind_for(template)
    else:
        bindings, kind = None, "transactional"  # a reply inside the window
    message = Message(
        channel=Channel.WHATSAPP,
        kind=kind,
        account=account,
        to=number,
        text=text,
        template=template,
        parameters=bindings,
        contact=contact,
    )
    if template is None and not window_open(account_id=account.pk, number=number):
        message.submit_refusal = OUTSIDE_WINDOW  # recorded skipped by the core (messaging.single); sends check again
    return message


def whatsapp_template_named(*, account: ProviderAccount, name: str, language: str = "") -> WhatsAppTemplate:
    """The account's template `name` in `language`; without a language, its only one (or an error
    naming the languages to choose from)."""
    found = list(WhatsAppTemplate.objects.filter(account=account, name=name).order_by("language"))
    if language:
        found = [t for t in found if t.language == language]
    if len(found) == 1:
        return found[0]
    if not found:
        where = f" in {language}" if language else ""
        raise ValidationError({"template": f"the account '{account.name}' has no template named '{name}'{where}"})
    languages = ", ".join(t.language for t in found)
    raise ValidationError({"language": f"the template '{name}' exists in {languages}: choose the language"})


def whatsapp_send(
    *,
    to: str,
    account: ProviderAccount,
    template: WhatsAppTemplate | None = None,
    values: dict[str, dict[str, str]] | None = None,
    text: str = "",
    acting_user=None,
) -> Message:
    """One WhatsApp message now. The number's contact must have opted in (the sending rule)."""
    message = whatsapp_message(to=to, account=account, template=template, values=values, text=text)
    return message_send_now(message, acting_user=acting_user)


def _merge_values(bindings: dict, values: dict[str, dict[str, str]]) -> dict:
    merged = {part: dict(entries) for part, entries in (bindings or {}).items() if isinstance(entries, dict)}
    for part, entries in values.items():
        for name, value in entries.items():
            # a plain value (the API's placeholders) or an entry already saying so (--var N=VALUE)
            merged.setdefault(part, {})[name] = value if isinstance(value, dict) else {"value": value}
    return merged
