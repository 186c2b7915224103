"""What each kind of step does to a batch of enrolments standing at it (journeys.graph): every
handler returns, per enrolment, either the branch it takes (with the message it made and the
reason) or the time it waits until. Handlers write only rows that commit with the enrolments'
move (journeys.engine holds the transaction): a send step's messages, saved and queued through
the core's single-message path, so the sending rule is the one every send goes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Q

from consent.models import MessageKind
from contacts.models import Contact
from journeys.graph import CONDITION, EXIT, SEND_SMS, SEND_WHATSAPP, WAIT, WAIT_DELIVERY, Step
from messaging.channels import adapter
from messaging.models import Message, MessageStatus
from messaging.selectors import NoAccount, channel_account
from messaging.single import messages_queue
from providers.base import Channel

ISTANBUL = ZoneInfo("Europe/Istanbul")
NOT_DELIVERED = frozenset(
    {
        MessageStatus.UNDELIVERED,
        MessageStatus.EXPIRED,
        MessageStatus.REJECTED,
        MessageStatus.FAILED,
        MessageStatus.SKIPPED,
        MessageStatus.CANCELLED,
    }
)


@dataclass
class Outcome:
    branch: str = ""
    message_id: int | None = None
    reason: str = ""
    wait_until: datetime | None = None  # not passed yet: due again then
    waiting_for: int | None = None  # and woken early by this message's final status


def run_step(step: Step, rows: list, *, journey_name: str, done: dict, now: datetime) -> dict[int, Outcome]:
    """`rows`: the enrolments (journeys.engine.Row) at `step`; `done`: (enrolment id, step id) →
    Outcome of the steps passed earlier in this batch (not yet saved)."""
    if step.type in (SEND_SMS, SEND_WHATSAPP):
        return _send(step, rows, journey_name=journey_name, now=now)
    if step.type == WAIT:
        return {r.id: _wait(step, r.arrived_at, now) for r in rows}
    if step.type == WAIT_DELIVERY:
        return _wait_delivery(step, rows, done=done, now=now)
    if step.type == CONDITION:
        return _condition(step, rows, done)
    if step.type == EXIT:
        return {r.id: Outcome() for r in rows}
    raise ValueError(f"unknown step type {step.type!r}")


def _send(step: Step, rows: list, *, journey_name: str, now: datetime) -> dict[int, Outcome]:
    channel = Channel.SMS if step.type == SEND_SMS else Channel.WHATSAPP
    config = step.config
    try:
        account = channel_account(channel, config.get("account") or None)
    except NoAccount as exc:
        return {r.id: Outcome("not_sent", reason=str(exc)[:255]) for r in rows}
    via = adapter(channel)
    contacts = Contact.objects.in_bulk([r.contact_id for r in rows])
    outcomes: dict[int, Outcome] = {}
    made: list[tuple[int, Message]] = []
    for r in rows:
        contact = contacts.get(r.contact_id)
        if contact is None:
            outcomes[r.id] = Outcome("not_sent", reason="the contact was deleted")
            continue
        try:
            message = via.single_message(
                account=account,
                # WhatsApp: the template's category gives the kind
                kind=config.get("kind") or (MessageKind.NEWSLETTER if channel == Channel.SMS else ""),
                to="",
                contact=contact,
                text=config.get("text") or "",
                template=config.get("template") or "",
                language=config.get("language") or "",
                placeholders={},
                sender=config.get("sender") or "",
            )
        except ValidationError as exc:
            outcomes[r.id] = Outcome("not_sent", reason="; ".join(exc.messages)[:255])
            continue
        made.append((r.id, message))
    origin = f"journey '{journey_name}' step {step.id}"[:120]
    messages_queue(channel=channel, messages=[m for _, m in made], origin_refs=[origin] * len(made))
    for enrolment_id, message in made:
        sent = message.status != MessageStatus.SKIPPED
        outcomes[enrolment_id] = Outcome("next" if sent else "not_sent", message.pk, "" if sent else message.reason)
    return outcomes


def wait_until(step: Step, arrived_at: datetime) -> datetime:
    if step.config.get("seconds") is not None:
        return arrived_at + timedelta(seconds=step.config["seconds"])
    hour, minute = (int(p) for p in step.config["until"].split(":"))
    local = arrived_at.astimezone(ISTANBUL)
    at = datetime.combine(local.date(), time(hour, minute), tzinfo=ISTANBUL)
    return at if at > local else datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tzinfo=ISTANBUL)


def _wait(step: Step, arrived_at: datetime, now: datetime) -> Outcome:
    until = wait_until(step, arrived_at)
    return Outcome("next") if now >= until else Outcome(wait_until=until)


def _wait_delivery(step: Step, rows: list, *, done: dict, now: datetime) -> dict[int, Outcome]:
    """Delivered as soon as the report says so; not delivered when the message failed or was
    never sent, or when the waiting time ran out with no final report ("no report" is not
    delivered). The status is read again at the timeout, so a report that raced the wait is seen."""
    of = step.config["of"]
    message_of = _messages_of(rows, of, done)
    statuses, went = {}, {}
    for pk, status, sent_at, next_attempt_at in Message.objects.filter(
        pk__in=[m for m in message_of.values() if m]
    ).values_list("pk", "status", "sent_at", "next_attempt_at"):
        statuses[pk] = status
        went[pk] = sent_at or next_attempt_at  # handed to the provider, or when it is due to be
    deadline_seconds = step.config["seconds"]
    outcomes = {}
    for r in rows:
        message_id = message_of.get(r.id)
        status = statuses.get(message_id) if message_id else None
        if status == MessageStatus.DELIVERED:
            outcomes[r.id] = Outcome("delivered", message_id)
        elif status is None:
            outcomes[r.id] = Outcome("not_delivered", message_id, f"the step {of} sent no message")
        elif status in NOT_DELIVERED:
            label = MessageStatus(status).label
            outcomes[r.id] = Outcome("not_delivered", message_id, str(label)[:255])
        else:  # the waiting time runs from when the message went (a queue, quiet hours, a retry)
            since = max(r.arrived_at, went.get(message_id) or r.arrived_at)
            until = since + timedelta(seconds=deadline_seconds)
            if now < until:
                outcomes[r.id] = Outcome(wait_until=until, waiting_for=message_id)
            elif status == MessageStatus.PENDING:  # not gone yet: look again a waiting time later
                outcomes[r.id] = Outcome(wait_until=now + timedelta(seconds=deadline_seconds), waiting_for=message_id)
            else:
                reason = f"no delivery report within {deadline_seconds} seconds"
                outcomes[r.id] = Outcome("not_delivered", message_id, reason)
    return outcomes


def _messages_of(rows: list, of: str, done: dict) -> dict[int, int | None]:
    """enrolment id → the message its step `of` made (None: it made none)."""
    message_of: dict[int, int | None] = {}
    unknown = []
    for r in rows:
        if (r.id, of) in done:
            message_of[r.id] = done[(r.id, of)].message_id
        else:
            unknown.append(r.id)
    if unknown:
        from journeys.models import EnrolmentStep

        found = dict(
            EnrolmentStep.objects.filter(enrolment_id__in=unknown, step=of).values_list("enrolment_id", "message_id")
        )
        message_of.update({pk: found.get(pk) for pk in unknown})
    return message_of


def _condition(step: Step, rows: list, done: dict) -> dict[int, Outcome]:
    """Yes when the contact matches the conditions (if any) and the message check holds (if any)."""
    from messaging.segments import definition_q

    yes = {r.id for r in rows}
    conditions = step.config.get("conditions") or {}
    if conditions.get("conditions"):
        ids = [r.contact_id for r in rows]
        matching = set(Contact.objects.filter(Q(pk__in=ids) & definition_q(conditions)).values_list("pk", flat=True))
        yes = {r.id for r in rows if r.contact_id in matching}
    if message := step.config.get("message"):
        message_of = _messages_of(rows, message["of"], done)
        delivered = set(
            Message.objects.filter(
                pk__in=[m for m in message_of.values() if m], status=MessageStatus.DELIVERED
            ).values_list("pk", flat=True)
        )
        want = message["state"] == "delivered"
        yes = {r.id for r in rows if r.id in yes and (message_of.get(r.id) in delivered) == want}
    return {r.id: Outcome("yes" if r.id in yes else "no") for r in rows}
