"""What a batch handed to a provider that cannot tell a repeat apart (Meta's Cloud API, no
idempotency key) must leave behind before the first request goes out: which of the claim's
messages may have left. One row per batch (the claim and its message ids), written in one INSERT
instead of an UPDATE of every message row (each a new row version and an entry in each of the
message table's indexes); deleted when the batch's outcome is recorded. A worker that stops in
between leaves it: messaging.dispatch.messages_free_stale_claims fails those messages as
"outcome unknown" and frees the rest of the claim to be sent again.

Message.handed_at, which said the same per row before, is still honoured for rows written then."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
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


def batch_handed(*, claim: uuid.UUID, message_ids: list[int]) -> None:
    """Before the provider is called: these messages of `claim` may leave from now on."""
    HandedBatch.objects.create(claim=claim, message_ids=message_ids, handed_at=timezone.now())


def batch_recorded(*, claim: uuid.UUID) -> None:
    """The batch's outcome is on its messages (they no longer hold the claim)."""
    HandedBatch.objects.filter(claim=claim).delete()


def handed_ids(claims: set[uuid.UUID]) -> set[int]:
    """The messages the batches of `claims` handed over."""
    ids: set[int] = set()
    for message_ids in HandedBatch.objects.filter(claim__in=claims).values_list("message_ids", flat=True):
        ids.update(message_ids)
    return ids


def forget_handed_before(moment: datetime) -> int:
    """Rows older than `moment` whose claim no message holds any more: their outcome was recorded
    (the worker stopped before deleting the row) or their stale claim has been dealt with."""
    from messaging.models import Message

    held = Message.objects.filter(claim__isnull=False).values("claim")
    return HandedBatch.objects.filter(handed_at__lt=moment).exclude(claim__in=held).delete()[0]
