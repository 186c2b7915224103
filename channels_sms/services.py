"""Single SMS (sms_send, the test send, the API): the SMS checks, then the core's single-message
path (the sending rule, the exactly-once row, the provider call)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from channels_sms.models import SmsTemplate
from consent.selectors import contact_with_exclusion
from contacts.models import Contact
from contacts.phones import to_e164
from messaging.models import Message
from messaging.rendering import CONTACT_FIELDS, VARIABLE, contact_values, render
from messaging.services import message_send_now
from providers.base import Channel, MessagingConnector
from providers.models import ProviderAccount
from providers.registry import connector_class
from providers.sms import sender_problem


def sms_message(
    *,
    account: ProviderAccount,
    kind: str,
    to: str = "",
    contact: Contact | None = None,
    text: str = "",
    template: str = "",
    placeholders: dict | None = None,
    sender: str = "",
) -> Message:
    """One SMS, not yet saved: to `to` (the contact holding that phone, if any) or to `contact`'s
    phone; the text given or the named template's, its {{variables}} filled from `placeholders`
    first, then the contact. A variable with neither (and no default) is an error."""
    # the connector's class, not an instance: building one decrypts the credentials (a journey step
    # makes a message per contact of its batch)
    if account.channel != Channel.SMS or not issubclass(connector_class(account.connector), MessagingConnector):
        raise ValidationError({"account": f"the account '{account.name}' does not send SMS"})
    exclusion = None  # the sending rule's verdict, where the contact was looked up here
    if contact is not None:
        if not contact.phone:
            raise ValidationError({"contact": f"the contact {contact.external_id or contact.pk} has no mobile phone"})
        parsed = contact.phone
    else:
        parsed = to_e164(to)
        if parsed is None:
            raise ValidationError({"to": f"'{to}' is not a valid phone number"})
        # the contact and the sending rule's verdict on it in one statement (message_submit reads it)
        contact, exclusion = contact_with_exclusion(field="phone", value=parsed, kind=kind, channel=Channel.SMS)
    if template and text:
        raise ValidationError({"template": "give either a template or a text, not both"})
    preset = None
    if template:
        preset = SmsTemplate.objects.filter(name=template).first()
        if preset is None:
            raise ValidationError({"template": f"there is no SMS template named '{template}'"})
        text = preset.text
    sender = sender or (preset.sender if preset else "") or account.settings.get("sender", "")
    if problem := sender_problem(sender):
        raise ValidationError({"sender": problem})
    if not text.strip():
        raise ValidationError({"text": "the message has no text"})
    values = (
        contact_values(**{f: getattr(contact, f) for f in CONTACT_FIELDS}, attributes=contact.attributes)
        if contact
        else {}
    )
    values.update({k: v for k, v in (placeholders or {}).items() if v is not None})
    if VARIABLE.search(text):
        text, missing = render(text, values)
        if missing:
            names = ", ".join(f"{{{{{n}}}}}" for n in dict.fromkeys(missing))
            raise ValidationError({"placeholders": f"no value for {names}: give it in placeholders"})
    message = Message(
        channel=Channel.SMS,
        kind=kind,
        account=account,
        to=parsed,
        sender=sender,
        text=text,
        template=preset,
        parameters=placeholders or None,
        contact=contact,
    )
    if exclusion is not None:
        message.rule_exclusion = exclusion  # messaging.single.message_submit: no second query
    return message


def message_send(
    *, to: str, text: str, kind: str, account: ProviderAccount, sender: str = "", acting_user=None
) -> Message:
    """Send one SMS now, under the sending rule: a number that belongs to a contact takes that
    contact's status and consent; one that belongs to none may receive transactional messages only."""
    if account.channel != Channel.SMS or not isinstance(account.connector_instance(), MessagingConnector):
        raise ValidationError({"account": f"the account '{account.name}' does not send SMS"})
    parsed = to_e164(to)
    if parsed is None:
        raise ValidationError({"to": f"'{to}' is not a valid phone number"})
    sender = sender or account.settings.get("sender", "")
    if problem := sender_problem(sender):
        raise ValidationError({"sender": problem})
    if not text.strip():
        raise ValidationError({"text": "the message has no text"})
    contact = Contact.objects.filter(phone=parsed).order_by("pk").first()
    message = Message(
        channel=Channel.SMS, kind=kind, account=account, to=parsed, sender=sender, text=text, contact=contact
    )
    return message_send_now(message, acting_user=acting_user)
