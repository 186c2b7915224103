"""The WhatsApp number import of File Transfers (product.md File transfers 4). A line matches its
contact by exid, email, msisdn, then wpNumber (the first match is the contact; no match: a new
contact with everything the line gives); an existing contact only gets the number and its WhatsApp
consent. One number belongs to one contact: the latest line, of the latest file, keeps it. The
consent itself is a WHATSAPP change through consent_apply, which sets the contact's fields.

The kind lives in consent/ (settings.FILE_TRANSFER_KINDS["whatsapp"]), as the İYS upload kinds
do, so contacts does not import consent. A batch is a handful of statements whatever its size:
one look-up of the contacts, one of the ledger, the numbers moved in bulk, new contacts copied in
(contacts.bulk) and one consent_apply call."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from consent.implied import NO_WHATSAPP_CONSENT, WHATSAPP_FIELDS, WhatsAppFields, whatsapp_fields_implied
from consent.implied import release_whatsapp_numbers as release_numbers
from consent.models import ChangeOrigin, Consent, ConsentSource, ConsentStatus, ConsentType
from consent.services import CREATED, UNCHANGED, UPDATED, ConsentInput, consent_apply
from contacts.bulk import insert_rows, new_row, reserve_ids, update_rows
from contacts.models import Contact
from contacts.parsers import Rejection, WhatsAppHeader, WhatsAppLine, parse_whatsapp_header, parse_whatsapp_line
from contacts.transfers import TransferKind

MATCH_ORDER = ("external_id", "email", "phone", "whatsapp_number")  # exid, email, msisdn, wpNumber


@dataclass(slots=True, eq=False)
class _Contact:
    """A contact as a batch works on it (plain values: a batch holds thousands)."""

    pk: int | None
    external_id: str | None
    email: str | None
    phone: str | None
    number: str | None  # its WhatsApp number as the batch leaves it
    stored: str | None = None  # its WhatsApp number in the database


def _line_values(record: WhatsAppLine) -> tuple:
    return (record.external_id, record.email, record.msisdn, record.wp_number)


class WhatsAppImport(TransferKind):
    has_header = True

    def grown_models(self) -> list:
        return [Contact, Consent]

    def header(self, text: str) -> Rejection | None:
        parsed = parse_whatsapp_header(text)
        if isinstance(parsed, Rejection):
            return parsed
        self.columns: WhatsAppHeader = parsed
        return None

    def parse(self, text: str) -> WhatsAppLine | Rejection:
        return parse_whatsapp_line(text, self.columns)

    def apply(self, records: list[WhatsAppLine], prepared=None) -> list[str | Rejection]:
        now = timezone.now()
        batch = _match(records)
        # Take each number away from every other contact first (the unique constraint holds
        # throughout): the batch's own contacts are moved below; one that a concurrent import gave
        # a number meanwhile loses it here, or the batch collides with that import and retries.
        known = [c.pk for c in (*batch.moved, *batch.holders.values()) if c.pk]
        release_numbers(numbers=list(batch.changed), keep_ids=known)
        if batch.moved:
            Contact.objects.filter(pk__any_of=[c.pk for c in batch.moved]).update(whatsapp_number=None)
        # New contacts take ids now and are inserted after the ledger with the fields it implies;
        # where ids cannot be reserved (SQLite) they are inserted first and the ledger sets them.
        reserved = reserve_ids(Contact, len(batch.new)) if batch.new else None
        if reserved is None:
            _insert(batch.new, now, {})
        else:
            for contact, pk in zip(batch.new, reserved, strict=True):
                contact.pk = pk
        numbers = list(batch.changed)
        changes = [
            ConsentInput(
                recipient=n,
                type=ConsentType.WHATSAPP,
                status=batch.status_of[n],
                consent_date=now,
                source=ConsentSource.NOT_STATED,  # the file says opt-in or out, not where it was collected
                contact_id=(batch.holders.get(n) or batch.changed[n]).pk,
                origin_ref=f"{self.transfer.original_name} ({self.transfer.name})"[:255],
            )
            for n in numbers
        ]
        implied: dict[str, WhatsAppFields] = {}
        applied = (
            consent_apply(
                changes=changes,
                origin=ChangeOrigin.UPLOAD,
                file_transfer=self.transfer,
                acting_user=self.transfer.uploaded_by,
                whatsapp=implied,
            )
            if changes
            else []
        )
        refused = {n: r for n, r in zip(numbers, applied, strict=True) if isinstance(r, Rejection)}
        if refused:  # the ledger's view of those numbers stays what it was
            implied.update(whatsapp_fields_implied(refused))
        update_rows(
            Contact,
            [
                {"id": c.pk, "whatsapp_number": c.number, **_fields(implied, c.number).row(), "updated_at": now}
                for c in batch.moved
            ],
            ["whatsapp_number", *WHATSAPP_FIELDS, "updated_at"],
        )
        if reserved is not None:
            _insert(batch.new, now, implied, reserved)
        return [
            outcome if outcome == UNCHANGED else refused.get(r.wp_number, outcome)
            for r, outcome in zip(records, batch.results, strict=True)
        ]


@dataclass
class _Batch:
    """What matching a batch's lines decided, before anything is written."""

    results: list[str] = field(default_factory=list)  # created | updated | unchanged, per line
    new: list[_Contact] = field(default_factory=list)
    holders: dict[str, _Contact] = field(default_factory=dict)  # number → the contact left holding it
    status_of: dict[str, str] = field(default_factory=dict)  # number → its status (ledger, then lines)
    changed: dict[str, _Contact] = field(default_factory=dict)  # number → its last line's contact, if it changed
    moved: list[_Contact] = field(default_factory=list)  # known contacts whose number changes


def _match(records: list[WhatsAppLine]) -> _Batch:
    """The lines in order, each matched exid → email → msisdn → wpNumber (product.md File
    transfers 4); a line that gives a contact its number or a new status changes it."""
    index = _existing(records)
    batch = _Batch(holders=index["whatsapp_number"])
    holders = batch.holders
    batch.status_of = dict(
        Consent.objects.filter(
            type=ConsentType.WHATSAPP, recipient__any_of=list({r.wp_number for r in records})
        ).values_list("recipient", "status")
    )
    touched: dict[_Contact, None] = {}  # contacts whose number the batch gives or takes
    for record in records:
        status = ConsentStatus.ONAY if record.opt_in else ConsentStatus.RET
        number = record.wp_number
        contact = next(
            (index[f][v] for f, v in zip(MATCH_ORDER, _line_values(record), strict=True) if v and v in index[f]),
            None,
        )
        if contact is None:
            contact = _Contact(None, record.external_id, record.email, record.msisdn, None)
            batch.new.append(contact)
            for name, value in zip(MATCH_ORDER[:3], _line_values(record), strict=False):
                if value:
                    index[name].setdefault(value, contact)
            outcome = CREATED  # a contact made by an earlier line of this batch was counted there
        elif contact.number == number and batch.status_of.get(number) == status:
            outcome = UNCHANGED
        else:
            outcome = UPDATED
        if outcome != UNCHANGED:
            previous = holders.get(number)
            if previous is not None and previous is not contact:
                previous.number = None  # one number, one contact: the later line wins
                touched[previous] = None
            if contact.number != number and holders.get(contact.number) is contact:
                del holders[contact.number]  # the number it leaves belongs to nobody now
            contact.number = number
            touched[contact] = None
            holders[number] = contact
            batch.status_of[number] = status
            batch.changed[number] = contact
        batch.results.append(outcome)
    batch.moved = [c for c in touched if c.pk and c.number != c.stored]
    return batch


def _fields(implied: dict[str, WhatsAppFields], number: str | None) -> WhatsAppFields:
    return implied.get(number, NO_WHATSAPP_CONSENT) if number else NO_WHATSAPP_CONSENT


def _existing(records: list[WhatsAppLine]) -> dict[str, dict[str, _Contact]]:
    """The batch's known contacts in one query, indexed by what a line matches on (the oldest
    contact wins where several share an email or phone). A contact found several ways is one
    _Contact, so a change made through one index is seen through the others."""
    wanted = [{v for v in values if v} for values in zip(*map(_line_values, records), strict=True)]
    index: dict[str, dict[str, _Contact]] = {name: {} for name in MATCH_ORDER}
    conditions = [Q(**{f"{n}__any_of": list(values)}) for n, values in zip(MATCH_ORDER, wanted, strict=True) if values]
    found = Contact.objects.filter(functools.reduce(operator.or_, conditions)).order_by("pk")
    for pk, *values in found.values_list("pk", *MATCH_ORDER):
        contact = _Contact(pk, *values[:3], number=values[3], stored=values[3])
        for name, value, batch in zip(MATCH_ORDER, values, wanted, strict=True):
            if value in batch:
                index[name].setdefault(value, contact)
    return index


def _insert(new: list[_Contact], now, implied: dict[str, WhatsAppFields], ids: list[int] | None = None) -> None:
    """Insert the batch's new contacts (with the WhatsApp consent fields `implied` for their number,
    else none) and give them their ids."""
    if not new:
        return
    template = new_row(Contact, now)  # one set of defaults for the batch (rows are written, never shared)
    rows = [
        {
            **template,
            "external_id": c.external_id,
            "email": c.email,
            "phone": c.phone,
            "whatsapp_number": c.number,
            **_fields(implied, c.number).row(),
        }
        for c in new
    ]
    for contact, pk in zip(new, insert_rows(Contact, rows, ids), strict=True):
        contact.pk = pk
