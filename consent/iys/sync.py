"""Synchronisation with İYS. The pull reads both changes feeds (source=HS: changes written by the
brand's side; source=IYS: citizens' own changes) from the cursor kept per account and applies them
through consent_apply, so a citizen's RET at İYS stops commercial sending at once."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from consent.iys.client import IysError, classify, iys_date, parse_iys_date
from consent.models import ChangeOrigin, Consent, IysCursor, IysSubmission, SubmissionState
from consent.services import ConsentInput, consent_apply
from contacts.bulk import update_rows
from providers.base import Channel
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
SOURCES = ("HS", "IYS")


def iys_accounts():
    return ProviderAccount.objects.filter(channel=Channel.IYS, is_active=True)


def iys_pull(*, account: ProviderAccount, max_pages: int = 1000) -> dict[str, int]:
    """Pull both feeds until they are empty; each page and its cursor commit together."""
    client = account.connector_instance().client()
    pulled = {}
    for source in SOURCES:
        cursor, _ = IysCursor.objects.get_or_create(account=account, source=source)
        pulled[source] = 0
        for _page in range(max_pages):
            page = client.changes(source=source, after=cursor.after or None)
            items = page.get("list") or []
            if not items:
                break
            changes = [
                ConsentInput(
                    recipient=item["recipient"],
                    type=item["type"],
                    status=item["status"],
                    consent_date=parse_iys_date(item["consentDate"]),
                    source=item["source"],
                    recipient_type=item.get("recipientType", "BIREYSEL"),
                    origin_ref=f"İYS {source} {item.get('transactionId', '')}"[:255],
                )
                for item in items
            ]
            with transaction.atomic():
                consent_apply(changes=changes, origin=ChangeOrigin.IYS_PULL)
                cursor.after = page.get("after") or cursor.after
                cursor.pulled_total += len(items)
                cursor.last_pull_at = timezone.now()
                cursor.save()
            pulled[source] += len(items)
        IysCursor.objects.filter(pk=cursor.pk).update(last_pull_at=timezone.now())
    logger.info("İYS pull for account %s: %s", account.pk, pulled)
    return pulled


def iys_push(*, account: ProviderAccount, batch_size: int = 1000, max_batches: int = 100) -> dict[str, int]:
    """One pass of the push (Sync mode): poll what was submitted, then send what is due in batches
    of at most `batch_size` distinct recipients, earliest deadline first.

    Exactly once: a batch is claimed with a conditional UPDATE before it is sent; a claim left by
    a killed worker is released after IYS_CLAIM_TIMEOUT_SECONDS and the batch sent again, where İYS answers
    H174 (the status is already there) for what had gone through, which counts as confirmed."""
    client = account.connector_instance().client()
    counts = {"submitted": 0, "confirmed": 0, "rejected": 0, "retrying": 0}
    _poll_submitted(client, account, counts)
    now = timezone.now()
    IysSubmission.objects.filter(
        account=account,
        claimed_at__lt=now - timedelta(seconds=settings.IYS_CLAIM_TIMEOUT_SECONDS),
        state__in=[SubmissionState.PENDING, SubmissionState.RETRYING],
    ).update(claim=None, claimed_at=None)
    for _batch in range(max_batches):
        batch = _claim_batch(account, batch_size)
        if not batch:
            break
        payload = [
            {
                "recipient": s["change__recipient"],
                "recipientType": s["change__recipient_type"],
                "type": s["change__type"],
                "status": s["change__status"],
                "source": s["change__source"],
                "consentDate": iys_date(s["change__consent_date"]),
            }
            for s in batch
        ]
        try:
            response = client.add_consents(payload)
        except IysError as exc:
            state = SubmissionState.RETRYING if exc.kind == "retryable" else SubmissionState.REJECTED
            IysSubmission.objects.filter(pk__any_of=[s["pk"] for s in batch]).update(
                state=state,
                claim=None,
                error_code=exc.code,
                error_message=str(exc)[:1000],
                next_attempt_at=timezone.now() + timedelta(minutes=5),
                attempts=F("attempts") + 1,
            )
            counts[state] += len(batch)
            if exc.kind == "retryable":
                break
            continue
        subs = {
            (i.get("recipientType"), i.get("type"), i.get("recipient")): i.get("subrequestId")
            or i.get("subRequestId")
            or ""
            for i in response.get("subRequests", [])
        }
        now = timezone.now()
        update_rows(
            IysSubmission,
            [
                {
                    "id": s["pk"],
                    "state": SubmissionState.SUBMITTED,
                    "request_id": response.get("requestId", ""),
                    "subrequest_id": subs.get(
                        (s["change__recipient_type"], s["change__type"], s["change__recipient"]), ""
                    ),
                    "claim": None,
                    "attempts": s["attempts"] + 1,
                    "updated_at": now,
                }
                for s in batch
            ],
            ["state", "request_id", "subrequest_id", "claim", "attempts", "updated_at"],
        )
        counts["submitted"] += len(batch)
    return counts


BATCH_FIELDS = (
    "pk",
    "attempts",
    "change__recipient",
    "change__recipient_type",
    "change__type",
    "change__status",
    "change__source",
    "change__consent_date",
)


def _claim_batch(account, batch_size: int) -> list[dict]:
    now = timezone.now()
    # one index-ordered query per state (an OR across states would sort every open row), merged;
    # half a batch more than needed, for the recipients that must wait
    lookahead = batch_size + batch_size // 2
    columns = ("deadline", "pk", "recipient")
    queues = [
        IysSubmission.objects.filter(account=account, claim=None, state=SubmissionState.PENDING),
        IysSubmission.objects.filter(
            account=account, claim=None, state=SubmissionState.RETRYING, next_attempt_at__lte=now
        ),
    ]
    rows = sorted(row for q in queues for row in q.order_by("deadline", "pk").values_list(*columns)[:lookahead])
    candidates = [row[1:] for row in rows[:lookahead]]
    # a recipient whose earlier change İYS is still processing waits: İYS applies requests
    # asynchronously, so a later change sent now could overtake it
    busy = set(
        IysSubmission.objects.filter(
            account=account, state=SubmissionState.SUBMITTED, recipient__any_of={c[1] for c in candidates}
        ).values_list("recipient", flat=True)
    )
    picked = []
    for pk, recipient in candidates:
        # İYS refuses a recipient twice in one request (H194); one change per recipient a batch is
        # stricter than that (a phone's MESAJ and ARAMA changes go in two batches) and needs no join
        if recipient not in busy:
            busy.add(recipient)
            picked.append(pk)
        if len(picked) == batch_size:
            break
    token = uuid.uuid4()
    due = Q(state=SubmissionState.PENDING) | Q(state=SubmissionState.RETRYING, next_attempt_at__lte=now)
    IysSubmission.objects.filter(due, pk__any_of=picked, claim=None).update(claim=token, claimed_at=now)
    return list(
        IysSubmission.objects.filter(pk__any_of=picked, claim=token).order_by("deadline", "pk").values(*BATCH_FIELDS)
    )


def _poll_submitted(client, account, counts) -> None:
    request_ids = (
        IysSubmission.objects.filter(account=account, state=SubmissionState.SUBMITTED)
        .values_list("request_id", flat=True)
        .distinct()
    )
    for request_id in list(request_ids):
        items = {i.get("subrequestId") or i.get("subRequestId"): i for i in client.request_result(request_id)}
        subs = IysSubmission.objects.filter(account=account, request_id=request_id, state=SubmissionState.SUBMITTED)
        now = timezone.now()
        updates, confirmed = [], []
        for sub in subs.values("pk", "subrequest_id", "change__consent_id", "change__status"):
            item = items.get(sub["subrequest_id"])
            if item is None or item.get("status") == "enqueue":
                continue
            row = {
                "id": sub["pk"],
                "transaction_id": "",
                "iys_created_at": None,
                "error_code": "",
                "error_message": "",
                "next_attempt_at": None,
                "updated_at": now,
            }
            error = item.get("error") or {}
            code = str(error.get("code", ""))
            if item.get("status") == "success" or code == "H174":  # H174: İYS already holds this status
                created = item.get("creationDate")
                row.update(
                    state=SubmissionState.CONFIRMED,
                    transaction_id=item.get("transactionId", "") or "",
                    iys_created_at=parse_iys_date(created) if created else None,
                    error_code=code,
                    error_message=error.get("message", ""),
                )
                confirmed.append((sub["change__consent_id"], sub["change__status"]))
            elif classify(code, 0) == "retryable":
                row.update(
                    state=SubmissionState.RETRYING,
                    error_code=code,
                    error_message=error.get("message", ""),
                    next_attempt_at=now + timedelta(minutes=5),
                )
            else:
                row.update(state=SubmissionState.REJECTED, error_code=code, error_message=error.get("message", ""))
            counts[row["state"]] += 1
            updates.append(row)
        with transaction.atomic():
            update_rows(
                IysSubmission,
                updates,
                [
                    "state",
                    "transaction_id",
                    "iys_created_at",
                    "error_code",
                    "error_message",
                    "next_attempt_at",
                    "updated_at",
                ],
            )
            _confirm_consents(confirmed, now)


def _confirm_consents(changes: list[tuple[int, str]], now) -> None:
    """A consent counts as İYS-confirmed while its current status is the one İYS now holds.
    `changes`: (consent id, the status İYS confirmed)."""
    for status in {status for _pk, status in changes}:
        Consent.objects.filter(pk__any_of=[pk for pk, s in changes if s == status], status=status).update(
            iys_confirmed_at=now
        )
