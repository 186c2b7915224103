"""Writes to contacts and lists that touch several rows (CONVENTIONS: services)."""

from __future__ import annotations

from django.db import transaction

from contacts.models import ContactList, ContactListMembership


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
    return len(new)
