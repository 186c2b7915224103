"""Create or update contacts by external id, one or a batch (the API's contacts endpoints).

Every item is checked on its own: a bad one gets its reasons and never stops the good ones
(product.md: What bad input gets). A batch costs a few queries whatever its size."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.audit import ContactWrite
from contacts.bulk import insert_objects, insert_rows
from contacts.models import ADDRESSES, CONSENT_FIELDS, Contact
from contacts.parsers import parse_email
from contacts.phones import to_e164
from contacts.signals import addresses_changed

ADDRESS_FIELDS = ("phone", "email", "whatsapp_number")
FIELDS = (*ADDRESS_FIELDS, "attributes")
_TR_E164 = re.compile(r"\+905\d{9}")  # the common case, checked without phonenumbers' parse


@dataclass
class ContactOutcome:
    """One item's result: `created`/`updated`/`unchanged` with the contact, or its errors."""

    outcome: str
    contact: Contact | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def _phone(value: str, what: str) -> tuple[str | None, str | None]:
    if _TR_E164.fullmatch(value):
        return value, None
    parsed = to_e164(value)
    return (parsed, None) if parsed else (None, f"'{value}' is not a valid {what}")


def _clean(item: dict) -> tuple[dict, dict[str, list[str]]]:
    """The item's fields normalised (E.164 numbers, lower-case email); None clears a field."""
    values, errors = {}, {}
    for name in FIELDS:
        if name not in item:
            continue
        value = item[name]
        if value is None or value == "":
            values[name] = None  # null clears the field (attributes: all of them)
            continue
        if name in ("phone", "whatsapp_number"):
            parsed, problem = _phone(str(value), "phone number" if name == "phone" else "WhatsApp number")
        elif name == "email":
            result = parse_email(str(value))
            parsed, problem = (None, result.reason) if hasattr(result, "reason") else (result, None)
        else:
            parsed, problem = value, None
        if problem:
            errors[name] = [problem]
        else:
            values[name] = parsed
    return values, errors


def _apply(contact: Contact, values: dict) -> list[str]:
    """Sets `values` on the contact; returns the fields that changed."""
    changed = []
    for name, value in values.items():
        if name == "attributes" and value is None:
            if contact.attributes:
                changed.append(name)
            contact.attributes = {}
        elif name == "attributes":
            # merged: a key given null is removed; keys not named are kept
            merged = {**(contact.attributes or {}), **value}
            merged = {k: v for k, v in merged.items() if v is not None}
            if merged != contact.attributes:
                contact.attributes = merged
                changed.append(name)
        elif getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    return changed


def contacts_upsert(*, items: list[dict], origin_ref: str = "") -> list[ContactOutcome]:
    """Each item: `external_id` and any of phone, email, whatsapp_number, attributes. Fields left
    out keep their value; attributes are merged. An external id seen twice in one batch: the
    later item applies on top of the earlier one. A WhatsApp number is one contact's only. With
    `origin_ref` (the API key's label), each contact created or changed keeps who did it and
    which fields (contacts.audit.ContactWrite, on its timeline)."""
    try:
        return _upsert(items, origin_ref)
    except IntegrityError:
        # another request made one of these contacts (or took a WhatsApp number) meanwhile:
        # read again and apply on top of what it wrote
        return _upsert(items, origin_ref)


@transaction.atomic
def _upsert(items: list[dict], origin_ref: str) -> list[ContactOutcome]:
    now = timezone.now()
    cleaned = [_clean(item) for item in items]
    exids = {item["external_id"] for item in items}
    by_exid = {c.external_id: c for c in Contact.objects.select_for_update().filter(external_id__in=exids)}
    wanted_numbers = {v["whatsapp_number"] for v, errors in cleaned if v.get("whatsapp_number") and not errors}
    number_owner = dict(
        Contact.objects.filter(whatsapp_number__in=wanted_numbers).values_list("whatsapp_number", "external_id")
    )
    results: list[ContactOutcome] = []
    new: dict[str, Contact] = {}
    changed: dict[str, Contact] = {}
    written: dict[str, list[str]] = {}  # external id → the fields set on it
    for item, (values, errors) in zip(items, cleaned, strict=True):
        exid = item["external_id"]
        number = values.get("whatsapp_number")
        if number and number_owner.get(number, exid) != exid:
            errors = {**errors, "whatsapp_number": [f"{number} is the WhatsApp number of another contact"]}
        if errors:
            results.append(ContactOutcome("rejected", errors=errors))
            continue
        contact = by_exid.get(exid)
        if contact is None:
            contact = Contact(external_id=exid, attributes={})
            written[exid] = ["external_id", *_apply(contact, values)]
            by_exid[exid] = new[exid] = contact
            outcome = "created"
        elif fields := _apply(contact, values):
            outcome = "created" if exid in new else "updated"
            written[exid] = list(dict.fromkeys([*written.get(exid, []), *fields]))
            if exid not in new:
                changed[exid] = contact
        else:
            outcome = "created" if exid in new else "unchanged"
        if number:
            number_owner[number] = exid
        results.append(ContactOutcome(outcome, contact))
    if new:
        insert_objects(list(new.values()))  # COPY on PostgreSQL (the ORM's bulk_create was ~40% of a batch)
    if changed:
        for contact in changed.values():
            contact.updated_at = now
        Contact.objects.bulk_update(changed.values(), [*FIELDS, "updated_at"])
    _consent_follows([*new.values(), *changed.values()])
    if origin_ref and written:
        insert_rows(
            ContactWrite,
            [
                {"contact_id": by_exid[exid].pk, "at": now, "created": exid in new,
                 "fields": [f for f in ("external_id", *FIELDS) if f in fields], "origin_ref": origin_ref[:255]}
                for exid, fields in written.items()
            ],
        )  # fmt: skip
    return results


def _consent_follows(contacts: list[Contact]) -> None:
    """A new contact, or one whose phone or WhatsApp number changed, shows the consent the ledger
    holds for its number (contacts.signals.addresses_changed); the answer shows it too."""
    moved: dict[str, list[int]] = {f: [] for f in ADDRESSES}
    for contact in contacts:
        loaded = getattr(contact, "_loaded_addresses", None)  # None: created here
        for name in ADDRESSES:
            value = getattr(contact, name)
            if (value is not None) if loaded is None else (loaded.get(name) != value):
                moved[name].append(contact.pk)
    if not any(moved.values()):
        return
    addresses_changed.send(sender=Contact, **moved)
    touched = {pk for ids in moved.values() for pk in ids}
    rows = Contact.objects.filter(pk__any_of=list(touched)).values_list("pk", *CONSENT_FIELDS)
    now_held = {pk: values for pk, *values in rows}
    for contact in contacts:
        if contact.pk in now_held:
            for name, value in zip(CONSENT_FIELDS, now_held[contact.pk], strict=True):
                setattr(contact, name, value)
