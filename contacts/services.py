"""Writes to contacts and lists that touch several rows (CONVENTIONS: services)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from contacts.models import ContactList, ContactListMembership
from contacts.signals import list_joined


@transaction.atomic
def contact_list_add(*, contact_list: ContactList, contact_ids: list[int]) -> int:
    """Add contacts to a static list; contacts already on it stay once. Returns how many were new."""
    existing = set(
        ContactListMembership.objects.filter(contact_list=contact_list, contact_id__in=contact_ids).values_list(
            "contact_id", flat=True
        )
    )
    new = [
        ContactListMembership(contact_list=contact_list, contact_id=cid)
        for cid in dict.fromkeys(contact_ids)
        if cid not in existing
    ]
    ContactListMembership.objects.bulk_create(new, ignore_conflicts=True)
    if new and list_joined.has_listeners():
        list_joined.send(sender=ContactList, contact_list=contact_list, contact_ids=[m.contact_id for m in new])
    return len(new)


@transaction.atomic
def contact_list_remove(*, contact_list: ContactList, contact_ids: list[int]) -> int:
    """Take contacts off a static list (the contacts stay). Returns how many were on it."""
    deleted, _ = ContactListMembership.objects.filter(contact_list=contact_list, contact_id__in=contact_ids).delete()
    return deleted


LIST_CHUNK = 2000


def contact_list_change(*, contact_list: ContactList, contacts: QuerySet, add: bool) -> int:
    """Add (or remove) every contact of `contacts` to (from) the list, a chunk of ids at a time (by
    id, no cursor held open while writing), so a whole filtered contacts list (the admin's "select
    all") never sits in memory at once."""
    write = contact_list_add if add else contact_list_remove
    done, last = 0, 0
    while True:
        chunk = list(contacts.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:LIST_CHUNK])
        if not chunk:
            return done
        done += write(contact_list=contact_list, contact_ids=chunk)
        last = chunk[-1]


def contacts_mark_bounced(*, phones: list[str]) -> int:
    """A delivery report said the number does not exist or is out of service: SMS to it is never
    attempted again until someone sets the phone Active (product.md Contacts: phone status)."""
    from django.utils import timezone

    from contacts.models import Contact, PhoneStatus

    return Contact.objects.filter(phone__in=phones, phone_status=PhoneStatus.ACTIVE).update(
        phone_status=PhoneStatus.BOUNCED, updated_at=timezone.now()
    )
