"""What a batch handed to a provider that cannot tell a repeat apart (Meta's Cloud API, no
idempotency key) must leave behind before the first request goes out: which of the claim's
messages may have left. One row per batch (the claim and its message ids), written in one INSERT
instead of an UPDATE of every message row (each a new row version and an entry in each of the
message table's indexes); deleted when the batch's outcome is recorded. A worker that stops in
between leaves it: messaging.dispatch.messages_free_stale_claims fails those messages as
"outcome unknown" and frees the rest of the claim to be sent again. A hand-over covers only the
rows that still hold the claim (a worker that waited past the claim timeout sends nothing another
worker took meanwhile), and its time renews the claim while the requests are out.

Message.handed_at, which said the same per row before, is still honoured for rows written then."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone


class HandedBatch(models.Model):
    claim = models.UUIDField(primary_key=True, editable=False)
    message_ids = models.JSONField()  # the ids whose requests may have gone out
    handed_at = models.DateTimeField()

    class Meta:
        db_table = "messaging_handed_batch"
        indexes = [models.Index(fields=["handed_at"], name="handed_batch_at")]

    def __str__(self) -> str:
        return f"{len(self.message_ids)} message(s) of claim {self.claim}"


def batch_handed(*, claim: uuid.UUID, message_ids: list[int]) -> set[int]:
    """Before the provider is called: which of these messages the batch may send, recorded as
    possibly leaving from now on. Only the rows that still hold `claim`: a worker that waited
    longer than the claim timeout (the account's rate limit, a provider's hold) may find some freed
    by the reaper and taken by another worker, and those are not its to send. The row's time is
    the claim's renewal: the reaper leaves a claim handed over within the timeout alone while its
    requests are out. The rows are locked until the record commits, as the reaper locks them
    before it reads this table (a lock, not a new version of each row)."""
    from messaging.models import Message

    with transaction.atomic():
        held = Message.objects.select_for_update(no_key=True).filter(pk__any_of=message_ids, claim=claim)
        ids = list(held.order_by("pk").values_list("pk", flat=True))
        if ids:
            HandedBatch.objects.create(claim=claim, message_ids=ids, handed_at=timezone.now())
    return set(ids)


def batch_recorded(*, claim: uuid.UUID) -> None:
    """The batch's outcome is on its messages (they no longer hold the claim)."""
    HandedBatch.objects.filter(claim=claim).delete()


def handed_batches(claims: set[uuid.UUID]) -> dict[uuid.UUID, tuple[datetime, set[int]]]:
    """For each of `claims` handed over: when, and the messages it handed."""
    rows = HandedBatch.objects.filter(claim__in=claims).values_list("claim", "handed_at", "message_ids")
    return {claim: (at, set(ids)) for claim, at, ids in rows}


def forget_handed_before(moment: datetime) -> int:
    """Rows older than `moment` whose claim no message holds any more: their outcome was recorded
    (the worker stopped before deleting the row) or their stale claim has been dealt with."""
    from messaging.models import Message

    held = Message.objects.filter(claim__isnull=False).values("claim")
    return HandedBatch.objects.filter(handed_at__lt=moment).exclude(claim__in=held).delete()[0]
