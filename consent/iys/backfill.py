"""Checking the ledger against İYS's own records with the status queries (iys.md §5.4-5.5):

* the **backfill** after install walks every contact with a Turkish mobile number, in throttled
  batches from a resume point, starting the night of installation at the configured hour;
* in **Integrator mode**, uploaded ONAYs waiting for İYS are checked again until İYS confirms them.

One batch (`iys_validate`): C5 says which numbers İYS holds in ONAY (at most 100 a request).
- a local ONAY that İYS holds is confirmed (`iys_confirmed_at`): in Integrator mode it now counts;
- a local ONAY that İYS does not hold loses its confirmation (İYS says RET or has no record); in
  Sync mode its latest change is queued for İYS when it has never been sent and is still inside
  the 3-business-day window (older consents cannot be uploaded: iys.md §8.7), else it is counted
  as "ONAY that İYS does not hold" on the status page;
- an İYS ONAY the ledger lacks (or holds as an older RET) is read with C4 and written through the
  ledger as an İYS record (later consent date wins, as everywhere).

İYS consents are for MESAJ to individuals here: the panel's channel is SMS; ARAMA and EPOSTA
records are left to the changes feed."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent.iys.calendar import IST, add_business_days
from consent.iys.client import STATUS_BATCH, IysClient, IysError, parse_iys_date
from consent.models import (
    BackfillState,
    ChangeOrigin,
    Consent,
    ConsentChange,
    ConsentStatus,
    ConsentType,
    IysBackfill,
    IysSubmission,
    RecipientType,
)
from consent.services import ConsentInput, consent_apply, queue_for_iys
from contacts.models import Contact
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
COUNTERS = ("confirmed", "imported", "not_at_iys", "queued")


def backfill_start_time(account: ProviderAccount) -> datetime:
    """The first configured hour (Europe/Istanbul) after the account was installed: the night of
    installation for a night-time hour."""
    hour = int(account.settings.get("backfill_hour") or 2)
    installed = account.created_at.astimezone(IST)
    start = installed.replace(hour=hour, minute=0, second=0, microsecond=0)
    return start if start > installed else start + timedelta(days=1)


def backfill_for(account: ProviderAccount) -> IysBackfill:
    backfill, _created = IysBackfill.objects.get_or_create(
        account=account, defaults={"starts_at": backfill_start_time(account)}
    )
    return backfill


def _contacts_to_check():
    return Contact.objects.filter(phone__startswith="+90")


def backfill_run(
    *, account: ProviderAccount, max_batches: int | None = None, now: datetime | None = None, force: bool = False
) -> IysBackfill:
    """Work through up to `max_batches` batches of contacts (all when None) if the backfill is
    due (or `force`); every batch commits with its resume point, so a stop loses nothing."""
    now = now or timezone.now()
    backfill = backfill_for(account)
    if backfill.state == BackfillState.DONE or (backfill.starts_at > now and not force):
        return backfill
    if backfill.state == BackfillState.SCHEDULED:
        backfill.state = BackfillState.RUNNING
        backfill.started_at = now
        backfill.total = _contacts_to_check().count()
        backfill.save()
    client = account.connector_instance().client()
    mode = account.settings.get("mode", "sync")
    batches = 0
    while max_batches is None or batches < max_batches:
        rows = list(
            _contacts_to_check()
            .filter(pk__gt=backfill.last_contact_id)
            .order_by("pk")
            .values_list("pk", "phone")[:STATUS_BATCH]
        )
        if not rows:
            _finish(backfill)
            break
        phones: dict[str, int] = {}
        for pk, phone in rows:
            phones.setdefault(phone, pk)
        try:
            with transaction.atomic():
                counts = iys_validate(client=client, mode=mode, phones=phones)
                for name in COUNTERS:
                    setattr(backfill, name, getattr(backfill, name) + counts[name])
                backfill.processed += len(rows)
                backfill.last_contact_id = rows[-1][0]
                backfill.last_run_at = timezone.now()
                backfill.last_error = ""
                backfill.total = max(backfill.total, backfill.processed)
                backfill.save()
        except IysError as exc:
            IysBackfill.objects.filter(pk=backfill.pk).update(last_error=str(exc)[:1000], last_run_at=timezone.now())
            backfill.last_error = str(exc)
            raise
        batches += 1
        if len(rows) < STATUS_BATCH:  # that was the last batch
            _finish(backfill)
            break
    return backfill


def _finish(backfill: IysBackfill) -> None:
    backfill.state = BackfillState.DONE
    backfill.finished_at = timezone.now()
    backfill.total = max(backfill.total, backfill.processed)
    backfill.save()
    logger.info("İYS backfill for account %s done: %s", backfill.account_id, _summary(backfill))


def _summary(backfill: IysBackfill) -> str:
    return (
        f"{backfill.processed} of {backfill.total} contacts checked, {backfill.confirmed} ONAY confirmed, "
        f"{backfill.imported} taken from İYS, {backfill.queued} queued for İYS, "
        f"{backfill.not_at_iys} ONAY that İYS does not hold"
    )


def iys_validate(*, client: IysClient, mode: str, phones: dict[str, int | None]) -> Counter:
    """Check ≤ 100 Turkish numbers (phone → contact id) against İYS; see the module docstring."""
    recipients = sorted(phones)
    now = timezone.now()
    counts: Counter = Counter()
    onay = client.onay_among(recipient_type=RecipientType.BIREYSEL, type_=ConsentType.MESAJ, recipients=recipients)
    local = {
        c.recipient: c
        for c in Consent.objects.filter(
            recipient__in=recipients, type=ConsentType.MESAJ, recipient_type=RecipientType.BIREYSEL
        )
    }
    confirm, unconfirm, missing = [], [], []
    for recipient, consent in local.items():
        if consent.status != ConsentStatus.ONAY:
            continue
        if recipient in onay:
            if not consent.iys_confirmed_at:
                confirm.append(consent.pk)
            counts["confirmed"] += 1
        else:
            if consent.iys_confirmed_at:
                unconfirm.append(consent.pk)
            missing.append(consent)
    Consent.objects.filter(pk__in=confirm).update(iys_confirmed_at=now)
    Consent.objects.filter(pk__in=unconfirm).update(iys_confirmed_at=None)
    Consent.objects.filter(pk__in=[c.pk for c in local.values()]).update(iys_checked_at=now)

    inputs = []
    for recipient in sorted(onay):
        consent = local.get(recipient)
        if consent is not None and consent.status == ConsentStatus.ONAY:
            continue
        record = client.consent_status(
            recipient=recipient, recipient_type=RecipientType.BIREYSEL, type_=ConsentType.MESAJ
        )
        if record is None or record.get("status") != ConsentStatus.ONAY:
            continue  # changed between the two queries: the changes feed brings it
        inputs.append(
            ConsentInput(
                recipient=recipient,
                type=ConsentType.MESAJ,
                status=ConsentStatus.ONAY,
                consent_date=parse_iys_date(record["consentDate"]),
                source=record.get("source") or "",
                contact_id=phones.get(recipient),
                origin_ref=f"İYS status {record.get('transactionId', '')}"[:255],
            )
        )
    if inputs:
        results = consent_apply(changes=inputs, origin=ChangeOrigin.IYS_PULL)
        counts["imported"] += sum(1 for r in results if r in ("created", "updated"))

    if missing and mode == "sync":
        counts["queued"] += _queue_unsent(missing, now)
    counts["not_at_iys"] += len(missing) - counts["queued"]
    return counts


def _queue_unsent(consents: list[Consent], now: datetime) -> int:
    """Sync mode: the latest change of each consent goes to İYS if it never went (it was made
    before the connector was installed) and İYS still accepts its date."""
    latest: dict[int, ConsentChange] = {}
    for change in ConsentChange.objects.filter(consent_id__in=[c.pk for c in consents]).order_by("created_at", "pk"):
        latest[change.consent_id] = change
    sent = set(IysSubmission.objects.filter(change__in=latest.values()).values_list("change_id", flat=True))
    rows, ids = [], []
    for change in latest.values():
        if change.pk in sent or add_business_days(change.consent_date, 3) < now:
            continue
        rows.append(
            {
                "recipient": change.recipient,
                "status": change.status,
                "previous_status": change.previous_status,
                "consent_date": change.consent_date,
            }
        )
        ids.append(change.pk)
    if rows:
        queue_for_iys(rows, ids, now)
    return len(rows)


def iys_confirm_awaiting(*, account: ProviderAccount, limit: int = 1000) -> Counter:
    """Integrator mode: ONAYs waiting for İYS (uploaded, not yet confirmed) are checked again,
    each at most once per IYS_RECHECK_MINUTES, until İYS confirms them."""
    counts: Counter = Counter()
    if account.settings.get("mode") != "integrator":
        return counts
    client = account.connector_instance().client()
    since = timezone.now() - timedelta(minutes=settings.IYS_RECHECK_MINUTES)
    awaiting = (
        Consent.objects.filter(
            type=ConsentType.MESAJ,
            recipient_type=RecipientType.BIREYSEL,
            status=ConsentStatus.ONAY,
            iys_confirmed_at__isnull=True,
            recipient__startswith="+90",
        )
        .exclude(iys_checked_at__gte=since)
        .order_by("pk")
        .values_list("recipient", "contact_id")[:limit]
    )
    rows = list(awaiting)
    for start in range(0, len(rows), STATUS_BATCH):
        with transaction.atomic():
            counts += iys_validate(client=client, mode="integrator", phones=dict(rows[start : start + STATUS_BATCH]))
    return counts
