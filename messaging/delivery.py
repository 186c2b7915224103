"""The one write path for a message's status (CONVENTIONS: one write path per aggregate).

A status only moves forward (providers.md §0.1): pending → queued → sent → a final status, and any
non-final status → rejected | failed. Late, repeated or out-of-order reports change nothing, and
unknown ids are ignored (the webhook still answers 200 so the provider stops retrying). Rows are
locked in id order while they are compared, so a report racing the send result cannot move a
status back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import replace
from functools import reduce

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contacts.bulk import insert_rows, update_rows
from messaging.channels import adapter
from messaging.models import Message, MessageStatus, MessageStatusEvent, message_pk
from messaging.signals import inbound_received, status_moved
from providers.base import DeliveryReport, WebhookEvents
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)

RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.UNDELIVERED: 3,
    MessageStatus.EXPIRED: 3,
    MessageStatus.REJECTED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.SKIPPED: 3,
    MessageStatus.CANCELLED: 3,
}
FINAL = frozenset(s for s, rank in RANK.items() if rank == 3)
READ = "read"  # WhatsApp: not a status (a read message stays delivered) but a step of its history
FIELDS = [
    "status",
    "reason",
    "raw_status",
    "provider_id",
    "segments",
    "encoding",
    "price",
    "text",
    "to",
    "attempts",
    "next_attempt_at",
    "claim",
    "claimed_at",
    "handed_at",
    "sent_at",
    "done_at",
    "read_at",
    "policy_bypass",
    "updated_at",
]


WRITABLE = frozenset(FIELDS)


def moves_forward(current: str, new: str) -> bool:
    return RANK[new] > RANK[current]


def messages_update(updates: dict[int, dict], *, claim: uuid.UUID | None = None) -> int:
    """Apply `updates` (message id → field values). A "status" value is applied only when it moves
    forward; the other fields are always written (text, segments, the claim being released).
    Returns how many statuses moved. Only the fields a change names are written: rows with the
    same set of fields go in one UPDATE (a dispatcher's batch is one or two such sets). With
    `claim`, only rows that still hold it are written (a dispatcher's batch: a row the reaper freed
    and another worker took is that worker's to record)."""
    return len(_update_moved(updates, claim=claim)[0])


def messages_update_moved(updates: dict[int, dict], *, only_if_moved: tuple[str, ...] = ()) -> set[int]:
    """messages_update, returning the ids whose status moved. Fields in `only_if_moved` are written
    only with a status that moves (a report's price and segments: a late or repeated report is not
    allowed to rewrite them)."""
    return _update_moved(updates, only_if_moved=only_if_moved)[0]


@transaction.atomic
def _update_moved(
    updates: dict[int, dict],
    *,
    only_if_moved: tuple[str, ...] = (),
    account_id: int | None = None,
    passed: dict[int, list[tuple[str, str, str]]] | None = None,
    claim: uuid.UUID | None = None,
) -> tuple[set[int], dict[int, dict]]:
    """(the ids whose status moved, the rows as they were, locked). With `account_id`, only that
    account's messages are touched (a report names ids; another account's are not its). `passed`:
    statuses (status, raw status, reason) reported together with a further one (sent with
    delivered): each that lies between the row's status and the new one gets its history row too."""
    if not updates:
        return set(), {}
    now = timezone.now()
    rows = Message.objects.select_for_update().filter(pk__any_of=list(updates))
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    if claim is not None:
        rows = rows.filter(claim=claim)
    current = {
        row["id"]: row
        for row in rows.order_by("pk").values(
            "id", "status", "done_at", "provider_id", "read_at", "channel", "to", "campaign_id"
        )
    }
    groups: dict[tuple[str, ...], list[dict]] = {}
    moved: set[int] = set()
    events: list[dict] = []  # history rows (messaging.MessageStatusEvent), in the order they happened
    for pk, change in updates.items():
        row = current.get(pk)
        if row is None:
            continue
        change = dict(change)
        status = change.pop("status", None)
        if status is not None and moves_forward(row["status"], status):
            change["status"] = status
            moved.add(pk)
            if status in FINAL and not row["done_at"]:
                change["done_at"] = change.get("done_at") or now
        elif status is not None:
            for field in ("reason", "raw_status", "done_at", *only_if_moved):
                change.pop(field, None)  # they describe a status that did not apply
        if row["provider_id"] and change.get("provider_id") == "":
            change.pop("provider_id")
        if row["read_at"] and "read_at" in change:
            change.pop("read_at")  # read once: the first report of it keeps its time
        if "status" in change:
            if passed and pk in passed:
                low, high = RANK[row["status"]], RANK[change["status"]]
                for step, raw, reason in sorted(set(passed[pk]), key=lambda s: RANK[s[0]]):
                    if low < RANK[step] < high:
                        events.append(_event(pk, step, {"raw_status": raw, "reason": reason}, now))
                        low = RANK[step]
            at = change.get("done_at") if change["status"] in FINAL else None
            events.append(_event(pk, change["status"], change, at or now))
        if change.get("read_at"):
            events.append(_event(pk, READ, change, change["read_at"]))
        change["updated_at"] = now
        if unknown := set(change) - WRITABLE:
            raise ValueError(f"messages_update cannot write {sorted(unknown)}")
        groups.setdefault(tuple(sorted(change)), []).append({"id": pk, **change})
    for fields, rows in groups.items():
        update_rows(Message, rows, list(fields))
    if events:
        insert_rows(MessageStatusEvent, events)  # COPY on PostgreSQL: a dispatcher's batch in one go
        if status_moved.has_listeners():
            status_moved.send(sender=Message, changes=ChangedMessages(events, current))
    return moved, current


def _event(pk: int, status: str, change: dict, at) -> dict:
    raw, reason = (change.get("raw_status", ""), change.get("reason", "")) if status != READ else ("", "")
    return {"message_id": pk, "status": status, "raw_status": raw, "reason": reason, "at": at}


class ChangedMessages:
    """status_moved's `changes`: made into dicts (id, channel, to, campaign_id, status, raw_status,
    reason, at) only when a listener iterates them, so a send nobody listens to costs nothing."""

    def __init__(self, events: list[dict], rows: dict[int, dict]):
        self.events, self.rows = events, rows

    def __iter__(self):
        for event in self.events:
            row = self.rows[event["message_id"]]
            yield {
                "id": event["message_id"],
                "channel": row["channel"],
                "to": row["to"],
                "campaign_id": row["campaign_id"],
                "status": event["status"],
                "raw_status": event["raw_status"],
                "reason": event["reason"],
                "at": event["at"],
            }


def messages_apply_reports(*, account_id: int, reports: Iterable[DeliveryReport]) -> int:
    """Delivery reports (webhook or poll) for messages sent through `account_id`."""
    reports = list(reports)
    of_pk: dict[int, list[DeliveryReport]] = {}
    of_provider_id: dict[str, list[DeliveryReport]] = {}
    for report in reports:
        pk = message_pk(report.key) if report.key else None
        if pk is not None:
            of_pk.setdefault(pk, []).append(report)
        elif report.provider_id:
            of_provider_id.setdefault(report.provider_id, []).append(report)
    unmatched = len(of_provider_id)
    if of_provider_id:
        for pk, provider_id in Message.objects.filter(
            account_id=account_id, provider_id__in=list(of_provider_id)
        ).values_list("pk", "provider_id"):
            of_pk.setdefault(pk, []).extend(of_provider_id[provider_id])
            unmatched -= 1
    by_pk = {pk: reduce(_furthest, found, None) for pk, found in of_pk.items()}
    passed = {  # what a message went through on its way to the furthest status of this batch
        pk: [(r.status, r.raw_status[:120], r.error[:255]) for r in found if r.status != by_pk[pk].status]
        for pk, found in of_pk.items()
        if len(found) > 1
    }
    updates = {}
    for pk, report in by_pk.items():
        change = {"status": report.status, "raw_status": report.raw_status[:120], "reason": report.error[:255]}
        if report.provider_id:
            change["provider_id"] = report.provider_id
        if report.segments:
            change["segments"] = report.segments
        if report.price is not None:
            change["price"] = report.price
        if report.done_at:
            change["done_at"] = report.done_at
        if report.read_at:
            change["read_at"] = report.read_at
        updates[pk] = change
    # ids of other accounts' messages and unknown ids are left out by the locked read itself
    moved, known_rows = _update_moved(
        updates, only_if_moved=("price", "segments"), account_id=account_id, passed=passed
    )
    known = {pk: row["to"] for pk, row in known_rows.items()}
    # a report that moves nothing (late, repeated, out of order) has no side effect either; what a
    # bounce or a consent refusal means is the channel's (a WhatsApp bounce is not the phone's)
    bounced = {known[pk] for pk in moved if by_pk[pk].bounce}
    refused = {known[pk] for pk in moved if by_pk[pk].consent_refused}
    if bounced or refused:
        account = ProviderAccount.objects.get(pk=account_id)
        via = adapter(account.channel)
        if bounced:
            via.recipients_bounced(recipients=sorted(bounced), account=account)
        if refused:
            via.consent_refused(recipients=sorted(refused), account=account)
    unknown = len(by_pk) - len(known) + unmatched
    if unknown:
        logger.info("account %s: delivery reports for %d unknown message(s) ignored", account_id, unknown)
    return len(moved)


def _furthest(kept: DeliveryReport | None, report: DeliveryReport) -> DeliveryReport:
    """Of two reports for one message in one batch (WhatsApp posts sent, delivered and read
    together, in any order), the one furthest along; a read time from either is kept."""
    if kept is None:
        return report
    first, later = (kept, report) if RANK.get(report.status, 0) >= RANK.get(kept.status, 0) else (report, kept)
    read_at = later.read_at or first.read_at
    return later if later.read_at == read_at else replace(later, read_at=read_at)


def handle_webhook_events(*, account_id: int, events: WebhookEvents) -> None:
    """settings.WEBHOOK_EVENT_HANDLERS entry: reports update messages; inbound messages are the
    channel's (an SMS STOP is a RET, a WhatsApp STOP an opt-out of WhatsApp only)."""
    if events.reports:  # a key that is not one of our ids (message_pk: None) is matched by provider id
        messages_apply_reports(account_id=account_id, reports=events.reports)
    if not events.inbound:
        return
    account = ProviderAccount.objects.filter(pk=account_id).first()
    if account is None or account.channel not in settings.MESSAGING_CHANNELS:
        logger.warning("account %s: %d inbound message(s) of a non-messaging account ignored", account_id,
                       len(events.inbound))  # fmt: skip
        return
    with transaction.atomic():
        adapter(account.channel).handle_inbound(account=account, inbound=events.inbound)
        inbound_received.send(sender=ProviderAccount, account=account, inbound=list(events.inbound))


def stale_claims(*, older_than) -> Q:
    return Q(status=MessageStatus.PENDING, claim__isnull=False, claimed_at__lt=older_than)
