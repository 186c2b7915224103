"""Upload kinds of File Transfers. A kind parses one line (pure parsers) and applies a batch of
parsed lines through the owning aggregate's service. Kinds are listed by dotted path in
settings.FILE_TRANSFER_KINDS, so the kinds that write consent (İYS uploads, the WhatsApp number
import) live in consent/ without contacts importing it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from contacts.bulk import insert_rows, new_row, update_rows
from contacts.models import Contact, ContactList, ContactListMembership, FileTransfer
from contacts.parsers import Rejection, UserLine, is_user_header, parse_user_line
from contacts.services import contact_list_add
from contacts.signals import addresses_changed

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(slots=True)
class ContactRef:
    """A contact as an import batch works on it (plain values: a batch holds thousands)."""

    pk: int | None
    external_id: str | None
    address: str | None  # the phone or the email, by upload kind


def insert_contacts(new: list[ContactRef], now, field: str, ids: list[int] | None = None, **values) -> None:
    """Insert the batch's new contacts (address in `field`, every other column at its default or
    in `values`, a callable of the contact) and give them their ids."""
    if not new:
        return
    template = new_row(Contact, now)  # one set of defaults for the batch (rows are written, never shared)
    rows = [
        {**template, field: c.address, "external_id": c.external_id, **{k: f(c) for k, f in values.items()}}
        for c in new
    ]
    for contact, pk in zip(new, insert_rows(Contact, rows, ids), strict=True):
        contact.pk = pk


def contacts_by_exid_and_address(
    exids: set[str], field: str, addresses: set[str]
) -> tuple[dict[str, ContactRef], dict[str, ContactRef]]:
    """The existing contacts of a batch in one query: by external id, and by address (`field`:
    phone or email; the oldest contact wins where several share one). A contact found both ways
    is one ContactRef, so a change made through one index is seen through the other."""
    by_exid: dict[str, ContactRef] = {}
    by_address: dict[str, ContactRef] = {}
    for pk, external_id, address in (
        Contact.objects.filter(Q(external_id__any_of=exids) | Q(**{f"{field}__any_of": addresses}))
        .order_by("pk")
        .values_list("pk", "external_id", field)
    ):
        contact = ContactRef(pk, external_id, address)
        if external_id in exids:
            by_exid[external_id] = contact
        if address:
            by_address.setdefault(address, contact)
    return by_exid, by_address


class _Deferred:
    """Stands for an accepted record that the parser process did not send (see Prepared)."""

    def __reduce__(self):
        return "DEFERRED"  # pickled as a reference to the one instance

    def __repr__(self):
        return "DEFERRED"


DEFERRED = _Deferred()


class Prepared:
    """What a kind's prepare() made of a batch of accepted records. `deferred`: positions of records
    that record(position) rebuilds from this object; the batch carries DEFERRED in their place, so
    a parser process does not send them (unpickling a record costs more than the rest of its way
    through an İYS upload's writer)."""

    deferred: Sequence[int] = ()

    def record(self, position: int):
        raise NotImplementedError


class Records(Sequence):
    """A batch's accepted records with the DEFERRED ones rebuilt on access."""

    def __init__(self, records: list, prepared: Prepared | None):
        self.records, self.prepared = records, prepared

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, position):
        record = self.records[position]
        return self.prepared.record(position) if record is DEFERRED else record


class TransferKind:
    """One instance per run. `header()` sees the first non-blank line when `has_header`."""

    has_header = False
    optional_header = False  # a first line that is_header() recognises is skipped

    def __init__(self, transfer: FileTransfer):
        self.transfer = transfer

    def grown_models(self) -> list:
        """The tables this kind makes grow and then looks up by value (statistics kept fresh)."""
        return [Contact]

    def is_header(self, text: str) -> bool:
        return self.has_header

    def header(self, text: str) -> Rejection | None:
        return None

    def parse(self, text: str):
        raise NotImplementedError

    def prepare(self, records: list) -> Prepared | None:
        """Work on a batch of accepted records that needs no database; its result reaches apply as
        `prepared`. Big files run it in the parser process, beside the writing one."""
        return None

    def apply(self, records: list, prepared=None) -> list[str | Rejection]:
        raise NotImplementedError


def transfer_kind(transfer: FileTransfer) -> TransferKind:
    return import_string(settings.FILE_TRANSFER_KINDS[transfer.kind])(transfer)


class UserUpload(TransferKind):
    """`token, externalId`: creates or matches contacts and saves them as the named static list."""

    optional_header = True

    def is_header(self, text: str) -> bool:
        return is_user_header(text)

    def parse(self, text: str) -> UserLine | Rejection:
        return parse_user_line(text)

    def apply(self, records: list[UserLine], prepared=None) -> list[str | Rejection]:
        now = timezone.now()
        by_exid, by_phone = contacts_by_exid_and_address(
            {r.external_id for r in records if r.external_id}, "phone", {r.phone for r in records}
        )
        results, members, new, changed, phoned = [], [], [], {}, []
        for record in records:
            contact = by_exid.get(record.external_id) if record.external_id else None
            if contact is not None:
                if contact.address and contact.address != record.phone:
                    results.append(
                        Rejection(
                            _("externalId %(exid)s belongs to a contact with another phone number (%(address)s)")
                            % {"exid": record.external_id, "address": contact.address}
                        )
                    )
                    continue
                outcome = UNCHANGED
                if not contact.address:
                    contact.address = record.phone
                    outcome = UPDATED
                    if contact.pk:
                        changed[contact.pk] = contact
                        phoned.append(contact.pk)  # its consent fields follow the phone it now has
                    by_phone.setdefault(record.phone, contact)
                results.append(outcome)  # a contact still without id was created (and counted) by an earlier line
            else:
                contact = by_phone.get(record.phone)
                if contact is not None and record.external_id and contact.external_id:
                    contact = None  # this phone's contact is another user: a new contact for this one
                if contact is None:
                    contact = ContactRef(None, record.external_id, record.phone)
                    new.append(contact)
                    by_phone.setdefault(record.phone, contact)
                    results.append(CREATED)
                elif record.external_id and not contact.external_id:
                    contact.external_id = record.external_id
                    if contact.pk:
                        changed[contact.pk] = contact
                    results.append(UPDATED)
                else:
                    results.append(UNCHANGED)
                if record.external_id:
                    by_exid[record.external_id] = contact
            members.append(contact)
        insert_contacts(new, now, "phone")
        update_rows(
            Contact,
            [
                {"id": c.pk, "phone": c.address, "external_id": c.external_id, "updated_at": now}
                for c in changed.values()
            ],
            ["phone", "external_id", "updated_at"],
        )
        if phoned:
            addresses_changed.send(sender=Contact, phone=phoned)
        contact_list_add(contact_list=self.contact_list(), contact_ids=[c.pk for c in members])
        return results

    def grown_models(self) -> list:
        return [Contact, ContactListMembership]

    def contact_list(self) -> ContactList:
        transfer = self.transfer
        if transfer.contact_list_id is None:
            contact_list, _created = ContactList.objects.get_or_create(
                name=transfer.name, defaults={"created_by": transfer.uploaded_by}
            )
            FileTransfer.objects.filter(pk=transfer.pk).update(contact_list=contact_list)
            transfer.contact_list = contact_list
        return transfer.contact_list
