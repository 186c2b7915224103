"""The İYS upload kinds of File Transfers (product.md File transfers 2 and 3): each line becomes a
consent change through consent_apply, linked to the contact found by externalId or address."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from consent.fresh import FreshCandidates, consent_apply_fresh, fresh_candidates
from consent.models import ChangeOrigin, Consent, ConsentType
from consent.parsers import IysLine, parse_email_iys_line, parse_sms_iys_line
from consent.services import CREATED, ConsentInput, consent_apply
from contacts.bulk import reserve_ids, update_rows
from contacts.models import Contact
from contacts.parsers import Rejection
from contacts.transfers import (
    ContactRef,
    Prepared,
    Records,
    TransferKind,
    contacts_by_exid_and_address,
    insert_contacts,
)


class _IysPrepared(Prepared):
    """A batch's fresh candidates; their values rebuild the records the statement leaves."""

    def __init__(self, candidates: FreshCandidates):
        self.candidates = candidates
        self.deferred = candidates.positions
        self._index: dict[int, int] | None = None

    def record(self, position: int) -> IysLine:
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self.candidates.positions)}
        i = self._index[position]
        recipient, external_id, status, moment, source = (column[i] for column in self.candidates.columns)
        # consent_date: the same instant, as a fixed UTC offset
        return IysLine(
            recipient=recipient,
            source=source,
            status=status,
            consent_date=datetime.fromisoformat(moment),
            external_id=external_id,
        )


class _IysUpload(TransferKind):
    consent_type = ""
    address_field = ""

    def __init__(self, transfer):
        super().__init__(transfer)
        self.now = timezone.now()

    def grown_models(self) -> list:
        return [Contact, Consent]

    def prepare(self, records: list[IysLine]) -> _IysPrepared | None:
        candidates = fresh_candidates(records, self.consent_type)
        return None if candidates is None else _IysPrepared(candidates)

    def apply(self, records: list[IysLine], prepared: _IysPrepared | None = None) -> list[str | Rejection]:
        records = Records(records, prepared)
        # Lines for recipients never seen before are written in one statement (PostgreSQL);
        # the others go through the contact matching below and consent_apply.
        ref = f"{self.transfer.original_name} ({self.transfer.name})"[:255]
        fresh = consent_apply_fresh(
            records=records,
            consent_type=self.consent_type,
            address_field=self.address_field,
            origin=ChangeOrigin.UPLOAD,
            origin_ref=ref,
            file_transfer=self.transfer,
            acting_user=self.transfer.uploaded_by,
            candidates=prepared.candidates if prepared else None,
        )
        if not fresh:
            return self._apply(list(records), ref)
        rest = iter(self._apply([records[i] for i in range(len(records)) if i not in fresh], ref))
        return [CREATED if i in fresh else next(rest) for i in range(len(records))]

    def _apply(self, records: list[IysLine], ref: str) -> list[str | Rejection]:
        if not records:
            return []
        field = self.address_field
        now = timezone.now()
        by_exid, by_address = contacts_by_exid_and_address(
            {r.external_id for r in records if r.external_id}, field, {r.recipient for r in records}
        )
        contacts: list[ContactRef | Rejection] = []
        new: list[ContactRef] = []
        filled: dict[int, ContactRef] = {}
        for record in records:
            contact = by_exid.get(record.external_id) if record.external_id else None
            if contact is not None:
                if contact.address and contact.address != record.recipient:
                    other = (
                        _("externalId %(exid)s belongs to a contact with another phone number (%(address)s)")
                        if field == "phone"
                        else _("externalId %(exid)s belongs to a contact with another email (%(address)s)")
                    )
                    contacts.append(Rejection(other % {"exid": record.external_id, "address": contact.address}))
                    continue
                if not contact.address:
                    contact.address = record.recipient
                    if contact.pk:
                        filled[contact.pk] = contact
            else:
                contact = by_address.get(record.recipient)
                if contact is None or (record.external_id and contact.external_id):
                    contact = ContactRef(None, record.external_id, record.recipient)
                    new.append(contact)
                    by_address.setdefault(record.recipient, contact)
                elif record.external_id and not contact.external_id:
                    contact.external_id = record.external_id
                    if contact.pk:
                        filled[contact.pk] = contact
                if record.external_id:
                    by_exid[record.external_id] = contact
            contacts.append(contact)
        # New contacts take ids now and are inserted after the consents, with the SMS subscription
        # the ledger then implies (so no second write of each new row); where ids cannot be
        # reserved (SQLite) they are inserted first and the ledger's update reaches them.
        reserved = reserve_ids(Contact, len(new)) if new else None
        if reserved is None:
            insert_contacts(new, now, field)
        else:
            for contact, pk in zip(new, reserved, strict=True):
                contact.pk = pk
        update_rows(
            Contact,
            [{"id": c.pk, field: c.address, "external_id": c.external_id, "updated_at": now} for c in filled.values()],
            [field, "external_id", "updated_at"],
        )
        changes = [
            ConsentInput(
                recipient=r.recipient,
                type=self.consent_type,
                status=r.status,
                consent_date=r.consent_date,
                source=r.source,
                contact_id=c.pk,
                origin_ref=ref,
            )
            for r, c in zip(records, contacts, strict=True)
            if not isinstance(c, Rejection)
        ]
        subscriptions: dict[str, str] = {}
        applied = iter(
            consent_apply(
                changes=changes,
                origin=ChangeOrigin.UPLOAD,
                file_transfer=self.transfer,
                acting_user=self.transfer.uploaded_by,
                subscriptions=subscriptions,
            )
        )
        if reserved is not None:  # the subscription the ledger now implies for the phone, else the default
            default = Contact._meta.get_field("sms_subscription").get_default()
            insert_contacts(new, now, field, reserved, sms_subscription=lambda c: subscriptions.get(c.address, default))
        return [c if isinstance(c, Rejection) else next(applied) for c in contacts]


class SmsIysUpload(_IysUpload):
    consent_type = ConsentType.MESAJ
    address_field = "phone"

    def parse(self, text: str) -> IysLine | Rejection:
        return parse_sms_iys_line(text, now=self.now)


class EmailIysUpload(_IysUpload):
    consent_type = ConsentType.EPOSTA
    address_field = "email"

    def parse(self, text: str) -> IysLine | Rejection:
        return parse_email_iys_line(text, now=self.now)
