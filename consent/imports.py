"""The İYS upload kinds of File Transfers (product.md File transfers 2 and 3): each line becomes a
consent change through consent_apply, linked to the contact found by externalId or address."""

from __future__ import annotations

from django.utils import timezone

from consent.models import ChangeOrigin, ConsentType
from consent.parsers import IysLine, parse_email_iys_line, parse_sms_iys_line
from consent.services import ConsentInput, consent_apply
from contacts.bulk import insert_objects
from contacts.models import Contact
from contacts.parsers import Rejection
from contacts.transfers import TransferKind


class _IysUpload(TransferKind):
    consent_type = ""
    address_field = ""

    def __init__(self, transfer):
        super().__init__(transfer)
        self.now = timezone.now()

    def apply(self, records: list[IysLine]) -> list[str | Rejection]:
        field = self.address_field
        by_exid = {
            c.external_id: c
            for c in Contact.objects.filter(external_id__any_of={r.external_id for r in records if r.external_id})
        }
        by_address: dict[str, Contact] = {}
        for contact in Contact.objects.filter(**{f"{field}__any_of": {r.recipient for r in records}}).order_by("pk"):
            by_address.setdefault(getattr(contact, field), contact)
        contacts: list[Contact | Rejection] = []
        new, filled = [], []
        for record in records:
            contact = by_exid.get(record.external_id) if record.external_id else None
            if contact is not None:
                address = getattr(contact, field)
                if address and address != record.recipient:
                    contacts.append(
                        Rejection(
                            f"externalId {record.external_id} belongs to a contact with another "
                            f"{'phone number' if field == 'phone' else 'email'} ({address})"
                        )
                    )
                    continue
                if not address:
                    setattr(contact, field, record.recipient)
                    if contact.pk:
                        filled.append(contact)
            else:
                contact = by_address.get(record.recipient)
                if contact is None or (record.external_id and contact.external_id):
                    contact = Contact(**{field: record.recipient, "external_id": record.external_id})
                    new.append(contact)
                    by_address.setdefault(record.recipient, contact)
                elif record.external_id and not contact.external_id:
                    contact.external_id = record.external_id
                    if contact.pk:
                        filled.append(contact)
                if record.external_id:
                    by_exid[record.external_id] = contact
            contacts.append(contact)
        insert_objects(new)
        Contact.objects.bulk_update(filled, [field, "external_id"])
        ref = f"{self.transfer.original_name} ({self.transfer.name})"
        changes = [
            ConsentInput(
                recipient=r.recipient,
                type=self.consent_type,
                status=r.status,
                consent_date=r.consent_date,
                source=r.source,
                contact_id=c.pk,
                origin_ref=ref[:255],
            )
            for r, c in zip(records, contacts, strict=True)
            if not isinstance(c, Rejection)
        ]
        applied = iter(
            consent_apply(
                changes=changes,
                origin=ChangeOrigin.UPLOAD,
                file_transfer=self.transfer,
                acting_user=self.transfer.uploaded_by,
            )
        )
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
