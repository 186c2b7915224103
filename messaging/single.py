"""Single messages outside campaigns, queued (the API, journeys): made by the channel's adapter,
judged by the sending rule when made (so the caller hears at once that it is refused) and again
when sent, saved before any network call, and sent by a worker now or at their send time
(product.md: The public API, messages)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.cache import add_flag
from consent.models import MessageKind
from consent.selectors import SENDABLE, Exclusion, audience_with_exclusions, is_sendable
from contacts.bulk import insert_objects
from contacts.models import Contact
from messaging.channels import adapter
from messaging.dispatch import messages_claim
from messaging.models import Message, MessageStatus
from messaging.policy import Judge
from messaging.selectors import NoAccount, channel_account
from messaging.sending import NO_CONTACT, messages_send_claimed
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
DUE_BATCH = 200
KICK = "single-messages:kick"  # a drain is queued and has not started (messages_drain_due_single)
KICK_SECONDS = 10  # a kick lost with Redis' queue blocks the next one this long at most (beat meanwhile)
DRAIN_SECONDS = 20  # a drain's time before it hands over to the next one
QUEUED_BATCH = 500  # messages made together (a journey step's batch) go to a worker together


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
    exclusion = None
    if message.contact_id is not None:
        # the adapter may have judged the contact it looked up (consent.selectors.contact_with_exclusion)
        exclusion = getattr(message, "rule_exclusion", None)
        if exclusion is None:
            exclusion = is_sendable(contact_id=message.contact_id, kind=message.kind, channel=channel)[1]
    refusal = _judge(message, via, exclusion, origin_ref, now)
    if not refusal and send_at is not None and send_at > now:
        message.next_attempt_at = send_at
    _apply_policy([message], now)
    message.save()  # one INSERT: atomic by itself (outside a caller's transaction, no BEGIN/COMMIT)
    if message.status == MessageStatus.PENDING and message.next_attempt_at is None:
        transaction.on_commit(_queue)  # at once, or when the caller's transaction commits
    logger.info("single %s message %s (%s): %s %s", channel, message.pk, origin_ref, message.status, refusal)
    return message


def _judge(message: Message, via, exclusion: str | None, origin_ref: str, now: datetime) -> str:
    """The sending rule's verdict on a message about to be saved (`exclusion`: the rule's reason
    for its contact, "" when sendable): a refused message becomes skipped with the reason."""
    skips_consent = message.kind == MessageKind.TRANSACTIONAL and via.transactional_skips_consent
    if message.contact_id is None:
        refusal = "" if skips_consent else NO_CONTACT
    else:
        refusal = str(dict(Exclusion.choices).get(exclusion, exclusion)) if exclusion != SENDABLE else ""
    refusal = refusal or getattr(message, "submit_refusal", "")  # the channel's own (WhatsApp: the window)
    message.addressed_contact_id = message.contact_id
    message.origin = origin_ref[:120]
    if refusal:
        message.status, message.reason, message.done_at = MessageStatus.SKIPPED, refusal[:255], now
    return refusal


def _apply_policy(messages: list[Message], now: datetime) -> None:
    """The frequency cap and quiet hours (messaging.policy), judged when a message is made too, so
    the API and a journey's step hear at once: over the cap, skipped with the reason; in quiet
    hours, a newsletter waits for their end. The send judges again (the cap may fill meanwhile)."""
    rows = [{"kind": m.kind, "contact_id": m.contact_id} for m in messages if m.status == MessageStatus.PENDING]
    if not rows:
        return
    judge = Judge(rows, now=now)
    for message in messages:
        if message.status != MessageStatus.PENDING:
            continue
        row = {"kind": message.kind, "contact_id": message.contact_id}
        if refusal := judge.refusal(row):
            message.status, message.reason, message.done_at = MessageStatus.SKIPPED, refusal[:255], now
            continue
        until = judge.defer_until(row)
        if until is not None and (message.next_attempt_at is None or message.next_attempt_at < until):
            message.next_attempt_at = until
        judge.counted(row)


def messages_queue(*, channel: str, messages: list[Message], origin_refs: list[str]) -> list[Message]:
    """Many single messages made by the channel's adapter (a journey's send step for a batch of
    contacts), judged by the sending rule in one query per kind, saved, and the pending ones sent
    by a worker once the caller's transaction commits. Returns them saved, skipped or pending."""
    via = adapter(channel)
    now = timezone.now()
    by_kind: dict[str, list[int]] = {}
    for message in messages:
        if message.contact_id is not None:
            by_kind.setdefault(message.kind, []).append(message.contact_id)
    exclusions: dict[tuple[str, int], str] = {}
    for kind, contact_ids in by_kind.items():
        rows = audience_with_exclusions(Contact.objects.filter(pk__in=contact_ids), kind=kind, channel=channel)
        for pk, exclusion in rows.values_list("pk", "exclusion"):
            exclusions[(kind, pk)] = exclusion
    for message, origin_ref in zip(messages, origin_refs, strict=True):
        exclusion = None
        if message.contact_id is not None:
            exclusion = exclusions.get((message.kind, message.contact_id), "the contact no longer exists")
        _judge(message, via, exclusion, origin_ref, now)
    _apply_policy(messages, now)
    insert_objects(messages)  # COPY on PostgreSQL: a journey step's batch in one go
    pending = [m.pk for m in messages if m.status == MessageStatus.PENDING and m.next_attempt_at is None]
    if pending:
        transaction.on_commit(lambda: _queue_many(pending))
    return messages


def _queue_many(message_ids: list[int]) -> None:
    from messaging.tasks import send_single_messages

    for at in range(0, len(message_ids), QUEUED_BATCH):
        send_single_messages.delay(message_ids[at : at + QUEUED_BATCH])


def _queue() -> None:
    """After the message's commit: wake a worker unless one is already woken and has not yet
    started draining (`KICK`, deleted when a drain starts). A message committed before that
    delete is seen by the drain; one committed after it finds no kick and publishes one; a kick
    lost with Redis leaves its messages to beat's sending_tick (messages_send_due_single). So a
    burst of sends publishes one task per drain, not one per message."""
    if add_flag(KICK, timeout=KICK_SECONDS):  # one SET NX EX
        from messaging.tasks import send_due_single_messages

        send_due_single_messages.delay()


def messages_drain_due_single(*, budget_seconds: float = DRAIN_SECONDS) -> int:
    """A worker woken by _queue: every single message that is pending and due, DUE_BATCH at a
    time (each claimed by a conditional UPDATE, so two drains never send one twice), for up to
    `budget_seconds`; what is left then gets another kick."""
    cache.delete(KICK)  # first: a message committed from now on kicks again
    started, sent = time.monotonic(), 0
    while True:
        due = _due_single_ids(now=timezone.now(), limit=DUE_BATCH)
        if due:
            sent += messages_send_single_ids(message_ids=due)
        if len(due) < DUE_BATCH:
            return sent
        if time.monotonic() - started > budget_seconds:
            _queue()
            return sent


def message_send_single(*, message_id: int) -> str:
    """Send one queued single message if it is still pending and due (a repeat changes nothing)."""
    claim = messages_claim(ids=[message_id], limit=1)
    if claim is None:
        return ""
    account = ProviderAccount.objects.get(pk=Message.objects.values_list("account_id", flat=True).get(pk=message_id))
    messages_send_claimed(claim=claim, account=account)
    return Message.objects.values_list("status", flat=True).get(pk=message_id)


def messages_send_single_ids(*, message_ids: list[int]) -> int:
    """Send those of these single messages that are still pending and due, a claim per account."""
    by_account: dict[int, list[int]] = {}
    for pk, account_id in Message.objects.filter(pk__in=message_ids).values_list("pk", "account_id"):
        by_account.setdefault(account_id, []).append(pk)
    sent = 0
    for account_id, ids in by_account.items():
        claim = messages_claim(ids=ids, limit=len(ids))
        if claim is not None:
            sent += messages_send_claimed(claim=claim, account=ProviderAccount.objects.get(pk=account_id))
    return sent


def messages_send_due_single(*, now: datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Beat: single messages whose send time came, whose retry is due, or whose task was lost."""
    return messages_send_single_ids(message_ids=_due_single_ids(now=now or timezone.now(), limit=limit))


def _due_single_ids(*, now: datetime, limit: int) -> list[int]:
    due = (
        Message.objects.filter(campaign__isnull=True, status=MessageStatus.PENDING, claim__isnull=True)
        .exclude(next_attempt_at__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return list(due)
