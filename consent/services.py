"""The consent ledger's only write path (CONVENTIONS: one write path per aggregate).
Uploads, the admin, the API, İYS pulls and STOP replies all call consent_apply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from consent.implied import (
    WhatsAppFields,
    latest_references,
    sync_sms_subscription,
    sync_whatsapp_fields,
    whatsapp_fields,
)
from consent.models import (
    ChangeOrigin,
    Consent,
    ConsentChange,
    ConsentStatus,
    ConsentType,
    IysSubmission,
    RecipientType,
    SubmissionState,
)
from consent.rules import IYS_TYPES, consent_problem, recipient_type_problem
from consent.signals import changes_appended
from contacts.bulk import insert_rows, update_rows
from contacts.parsers import Rejection
from providers.base import Channel
from providers.models import ProviderAccount

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# changes that came from İYS itself, or that İYS already refused, are not sent back to it
NOT_SENT_TO_IYS = (ChangeOrigin.IYS_PULL, ChangeOrigin.PROVIDER)


@dataclass(frozen=True)
class ConsentInput:
    recipient: str  # E.164 phone or lower-case email
    type: str
    status: str
    consent_date: datetime
    source: str
    recipient_type: str = RecipientType.BIREYSEL
    contact_id: int | None = None
    origin_ref: str = ""


def _check(change: ConsentInput, now: datetime, origin: str) -> Rejection | None:
    if origin == ChangeOrigin.IYS_PULL and change.type not in IYS_TYPES:
        return Rejection(f"İYS holds no {change.type} consent: a pull never changes it")
    if rejection := recipient_type_problem(change.type, change.recipient_type):
        return rejection
    return consent_problem(change.recipient, change.type, change.status, change.consent_date, change.source, now)


@dataclass(slots=True)
class _Current:
    """A consent row as consent_apply works on it (plain values: a batch holds thousands)."""

    pk: int | None
    recipient: str
    type: str
    recipient_type: str
    status: str
    consent_date: datetime | None
    source: str
    contact_id: int | None
    iys_confirmed_at: datetime | None


_STATE = ("status", "consent_date", "source", "contact_id", "iys_confirmed_at")  # what a change sets
_CURRENT_FIELDS = ("pk", "recipient", "type", "recipient_type", *_STATE)  # _Current's fields, in order


@transaction.atomic
def consent_apply(
    *,
    changes: Sequence[ConsentInput],
    origin: str,
    file_transfer=None,
    acting_user=None,
    subscriptions: dict[str, str] | None = None,
    whatsapp: dict[str, WhatsAppFields] | None = None,
    appended: dict[int, int] | None = None,
) -> list[str | Rejection]:
    """Apply consent changes in order; return per change 'created' | 'updated' | 'unchanged' or
    a Rejection. Rules (iys.md §7-8, product.md Consent and İYS; consent.rules): type fits the
    recipient kind; the date is not in the future (nor, for İYS's types, before 2015-05-01); a
    repeated status changes nothing; only a later consent date replaces the current one. History
    rows are appended for every accepted change. A MESAJ change also sets the SMS subscription of
    the contacts with that phone (ONAY → Subscribed, RET → Not subscribed): one truth, two views.
    `subscriptions`, when given, receives phone → subscription for every individual MESAJ consent
    the batch changed (for contacts the caller inserts after this call).

    WHATSAPP (product.md WhatsApp consent) is the panel's own: never sent to İYS nor taken from
    it. Its consent follows the number's contact (a change's contact replaces the consent's even
    when the status stays), and the contact holding the number shows it (consent.implied: ONAY →
    opt-in, RET → opt-out, with the consent's date and the reference of the change that set it);
    `whatsapp`, when given, receives number → those fields for every WHATSAPP change accepted;
    `appended`, the position in `changes` → id of the history row it appended."""
    assert origin in ChangeOrigin.values
    now = timezone.now()
    keys = {(c.recipient, c.type, c.recipient_type) for c in changes}
    current: dict[tuple, _Current] = {}
    for values in Consent.objects.filter(
        recipient__any_of={k[0] for k in keys}, type__in={k[1] for k in keys}
    ).values_list(*_CURRENT_FIELDS):
        consent = _Current(*values)
        current[(consent.recipient, consent.type, consent.recipient_type)] = consent
    results: list[str | Rejection] = []
    new: dict[tuple, _Current] = {}
    dirty: dict[tuple, _Current] = {}
    history: list[tuple[tuple, dict]] = []
    username = getattr(acting_user, "username", "") or ""
    pull = origin == ChangeOrigin.IYS_PULL
    numbers: dict[tuple, None] = {}  # the WHATSAPP consents whose contact fields this call sets
    positions: list[int] = []  # history row → its change's position
    for position, change in enumerate(changes):
        if rejection := _check(change, now, origin):
            results.append(rejection)
            continue
        key = (change.recipient, change.type, change.recipient_type)
        if change.type == ConsentType.WHATSAPP:
            numbers[key] = None
        consent = current.get(key)
        if consent is not None and (consent.status == change.status or change.consent_date <= consent.consent_date):
            touched = False
            moved = change.type == ConsentType.WHATSAPP and consent.contact_id != change.contact_id
            if change.contact_id and (consent.contact_id is None or moved):
                consent.contact_id = change.contact_id
                touched = True
            if pull and consent.status == change.status and not consent.iys_confirmed_at:
                consent.iys_confirmed_at = now  # İYS holds the same status: it is confirmed
                touched = True
            if touched and consent.pk:
                dirty[key] = consent
            results.append(UNCHANGED)
            continue
        previous = consent.status if consent else ""
        if consent is None:
            consent = _Current(None, *key, "", None, "", None, None)
            current[key] = new[key] = consent
            results.append(CREATED)
        else:
            if consent.pk:
                dirty[key] = consent
            results.append(UPDATED)
        consent.status = change.status
        consent.iys_confirmed_at = now if pull else None
        consent.consent_date = change.consent_date
        consent.source = change.source
        consent.contact_id = change.contact_id or consent.contact_id
        positions.append(position)
        history.append(
            (
                key,
                {
                    "consent_id": None,
                    "contact_id": consent.contact_id,
                    "recipient": change.recipient,
                    "recipient_type": change.recipient_type,
                    "type": change.type,
                    "status": change.status,
                    "previous_status": previous,
                    "consent_date": change.consent_date,
                    "source": change.source,
                    "origin": origin,
                    "origin_ref": change.origin_ref,
                    "file_transfer_id": getattr(file_transfer, "pk", None),
                    "acting_user_id": getattr(acting_user, "pk", None),
                    "acting_username": username,
                    "created_at": now,
                },
            )
        )
    created = list(new.values())
    ids = insert_rows(
        Consent,
        [
            {
                "recipient": c.recipient,
                "type": c.type,
                "recipient_type": c.recipient_type,
                "iys_checked_at": None,
                "updated_at": now,
                **{f: getattr(c, f) for f in _STATE},
            }
            for c in created
        ],
    )
    for consent, pk in zip(created, ids, strict=True):
        consent.pk = pk
    update_rows(
        Consent,
        [{"id": c.pk, "updated_at": now, **{f: getattr(c, f) for f in _STATE}} for c in dirty.values()],
        [*_STATE, "updated_at"],
    )
    for key, row in history:
        row["consent_id"] = current[key].pk
    ids = insert_rows(ConsentChange, [row for _, row in history])  # append-only: rows are only ever inserted
    if appended is not None:
        appended.update(zip(positions, ids, strict=True))
    changed = sync_sms_subscription([current[k] for k in {k for k, _ in history}])
    if subscriptions is not None:
        subscriptions.update(changed)
    if numbers:
        implied = _whatsapp_implied([current[k] for k in numbers], history)
        sync_whatsapp_fields(implied)
        if whatsapp is not None:
            whatsapp.update(implied)
    if history:
        changes_appended.send(sender=ConsentChange, changes=(row for _, row in history))
    sent = [(row, pk) for (_, row), pk in zip(history, ids, strict=True) if row["type"] in IYS_TYPES]
    if origin not in NOT_SENT_TO_IYS and sent:
        queue_for_iys([row for row, _ in sent], [pk for _, pk in sent], now)
    return results


def _whatsapp_implied(consents: list[_Current], history: list[tuple[tuple, dict]]) -> dict[str, WhatsAppFields]:
    """Number → the contact fields each WHATSAPP consent implies; the reference is the latest
    change's: this call's, else the ledger's (a consent whose contact moved, its status kept)."""
    references = {key[0]: row["origin_ref"] for key, row in history if key[1] == ConsentType.WHATSAPP}
    earlier = latest_references([c.pk for c in consents if c.recipient not in references])
    return {
        c.recipient: whatsapp_fields(c.status, c.consent_date, references.get(c.recipient, earlier.get(c.pk) or ""))
        for c in consents
    }


def queue_for_iys(rows: list[dict], change_ids: list[int], now) -> None:
    """Sync mode: every change made on the panel's side goes to İYS within 3 business days,
    except what İYS's rules make pointless (iys.md §8): numbers outside Turkey and a first RET."""
    from consent.iys.calendar import add_business_days

    account_id = sync_account_id()
    if account_id is None:
        return
    submissions = []
    for row, change_id in zip(rows, change_ids, strict=True):
        reason = not_for_iys(row["recipient"], row["status"], row["previous_status"])
        submissions.append(
            {
                "change_id": change_id,
                "account_id": account_id,
                "recipient": row["recipient"],
                "state": SubmissionState.SKIPPED if reason else SubmissionState.PENDING,
                "deadline": add_business_days(row["consent_date"], 3),
                "skip_reason": reason,
                "request_id": "",
                "subrequest_id": "",
                "transaction_id": "",
                "error_code": "",
                "error_message": "",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    insert_rows(IysSubmission, submissions)


def sync_account_id() -> int | None:
    """The İYS account in Sync mode (the panel's changes go to İYS), if one is installed."""
    return (
        ProviderAccount.objects.filter(channel=Channel.IYS, is_active=True, settings__mode="sync")
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def not_for_iys(recipient: str, status: str, previous_status: str) -> str:
    """Why a change is not sent to İYS (empty when it is)."""
    if recipient.startswith("+") and not recipient.startswith("+90"):
        return "İYS covers Turkish numbers only"
    if status == ConsentStatus.RET and not previous_status:
        return "a first RET: İYS holds no record to withdraw (it would refuse it, H175)"
    return ""
