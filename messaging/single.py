"""Single messages outside campaigns, queued (the API, journeys): made by the channel's adapter,
judged by the sending rule when made (so the caller hears at once that it is refused) and again
when sent, saved before any network call, and sent by a worker now or at their send time
(product.md: The public API, messages)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from consent.models import MessageKind
from consent.selectors import Exclusion, is_sendable
from messaging.channels import adapter
from messaging.dispatch import messages_claim
from messaging.models import Message, MessageStatus
from messaging.selectors import NoAccount, channel_account
from messaging.sending import NO_CONTACT, messages_send_claimed
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
DUE_BATCH = 200


def message_submit(
    *,
    channel: str,
    kind: str = "",
    to: str = "",
    contact=None,
    text: str = "",
    template: str = "",
    language: str = "",
    placeholders: dict | None = None,
    sender: str = "",
    account_name: str = "",
    send_at: datetime | None = None,
    origin_ref: str = "",
) -> Message:
    """Make one message and queue it: `pending` (sent by a worker as soon as the transaction
    commits, or at `send_at`), or `skipped` with the sending rule's reason, never sent. A number
    of no contact may get transactional messages only, on a channel where those skip consent."""
    try:
        via = adapter(channel)
    except LookupError:
        raise ValidationError({"channel": f"unknown channel '{channel}'"}) from None
    try:
        account = channel_account(channel, account_name or None)
    except NoAccount as exc:
        raise ValidationError({"account": str(exc).replace("with --account", "in 'account'")}) from None
    if kind and kind not in MessageKind.values:
        raise ValidationError({"kind": f"unknown kind '{kind}'; use {' or '.join(MessageKind.values)}"})
    message = via.single_message(
        account=account,
        kind=kind or MessageKind.NEWSLETTER,
        to=to,
        contact=contact,
        text=text,
        template=template,
        language=language,
        placeholders=placeholders or {},
        sender=sender,
    )
    now = timezone.now()
    skips_consent = message.kind == MessageKind.TRANSACTIONAL and via.transactional_skips_consent
    refusal = ""
    if message.contact_id is None and not skips_consent:
        refusal = NO_CONTACT
    elif message.contact_id is not None:
        ok, reason = is_sendable(contact_id=message.contact_id, kind=message.kind, channel=channel)
        refusal = "" if ok else str(dict(Exclusion.choices).get(reason, reason))
    message.addressed_contact_id = message.contact_id
    message.origin = origin_ref[:120]
    if refusal:
        message.status, message.reason, message.done_at = MessageStatus.SKIPPED, refusal, now
    elif send_at is not None and send_at > now:
        message.next_attempt_at = send_at
    with transaction.atomic():
        message.save()
        if message.status == MessageStatus.PENDING and message.next_attempt_at is None:
            transaction.on_commit(lambda: _queue(message.pk))
    logger.info("single %s message %s (%s): %s %s", channel, message.pk, origin_ref, message.status, refusal)
    return message


def _queue(message_id: int) -> None:
    from messaging.tasks import send_single_message

    send_single_message.delay(message_id)


def message_send_single(*, message_id: int) -> str:
    """Send one queued single message if it is still pending and due (a repeat changes nothing)."""
    claim = messages_claim(ids=[message_id], limit=1)
    if claim is None:
        return ""
    account = ProviderAccount.objects.get(pk=Message.objects.values_list("account_id", flat=True).get(pk=message_id))
    messages_send_claimed(claim=claim, account=account)
    return Message.objects.values_list("status", flat=True).get(pk=message_id)


def messages_send_due_single(*, now: datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Beat: single messages whose send time came, whose retry is due, or whose task was lost."""
    now = now or timezone.now()
    due = (
        Message.objects.filter(campaign__isnull=True, status=MessageStatus.PENDING, claim__isnull=True)
        .exclude(next_attempt_at__gt=now)
        .order_by("pk")
        .values_list("pk", "account_id")[:limit]
    )
    by_account: dict[int, list[int]] = {}
    for pk, account_id in due:
        by_account.setdefault(account_id, []).append(pk)
    sent = 0
    for account_id, ids in by_account.items():
        claim = messages_claim(ids=ids, limit=len(ids))
        if claim is not None:
            sent += messages_send_claimed(claim=claim, account=ProviderAccount.objects.get(pk=account_id))
    return sent
