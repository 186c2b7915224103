"""Single SMS (sms_send, the test send, alerts through the API later): the SMS checks, then the
core's message_send_now (the sending rule, the exactly-once row, the provider call)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from contacts.models import Contact
from contacts.phones import to_e164
from messaging.models import Message
from messaging.services import message_send_now
from providers.base import Channel, MessagingConnector
from providers.models import ProviderAccount
from providers.sms import sender_problem


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
