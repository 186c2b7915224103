"""One truth, two views: the contact fields a consent implies, kept in step by the ledger's write
path (product.md SMS channel 'One truth, two views'; WhatsApp channel 'WhatsApp consent'). An
individual's MESAJ consent sets the SMS subscription of the contacts with that phone; a WHATSAPP
consent sets the WhatsApp consent, its date and its source on the contact holding that number
(one number, one contact). The sending rule (consent.selectors) reads these fields."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from consent.models import Consent, ConsentChange, ConsentStatus, ConsentType, RecipientType
from contacts.bulk import update_rows
from contacts.models import Contact, SmsSubscription, WhatsAppConsent

IMPLIED_SUBSCRIPTION = {
    ConsentStatus.ONAY: SmsSubscription.SUBSCRIBED,
    ConsentStatus.RET: SmsSubscription.NOT_SUBSCRIBED,
}
IMPLIED_WHATSAPP_CONSENT = {
    ConsentStatus.ONAY: WhatsAppConsent.OPT_IN,
    ConsentStatus.RET: WhatsAppConsent.OPT_OUT,
}
WHATSAPP_FIELDS = ["whatsapp_consent", "whatsapp_consent_at", "whatsapp_consent_source"]


@dataclass(frozen=True, slots=True)
class WhatsAppFields:
    """A contact's WhatsApp consent as the ledger implies it: the status, the consent's own date,
    and its source as people read it (the reference of the change that set it: the file, the
    reply, the evidence typed on the contact page)."""

    consent: str
    at: datetime | None
    source: str

    def row(self) -> dict:
        return dict(zip(WHATSAPP_FIELDS, (self.consent, self.at, self.source), strict=True))


# a contact without a WhatsApp number, or whose number the ledger holds nothing for
NO_WHATSAPP_CONSENT = WhatsAppFields(WhatsAppConsent.UNKNOWN, None, "")


def whatsapp_fields(status: str, consent_date: datetime, reference: str) -> WhatsAppFields:
    return WhatsAppFields(IMPLIED_WHATSAPP_CONSENT[status], consent_date, reference[:255])


def sync_sms_subscription(consents: Iterable) -> dict[str, str]:
    """Sets the SMS subscription of the contacts with each individual MESAJ consent's phone;
    returns phone → the subscription it now implies. `consents`: objects with recipient, type,
    recipient_type and status."""
    implied = {
        consent.recipient: IMPLIED_SUBSCRIPTION[consent.status]
        for consent in consents
        if consent.type == ConsentType.MESAJ and consent.recipient_type == RecipientType.BIREYSEL
    }
    for subscription in IMPLIED_SUBSCRIPTION.values():
        phones = [phone for phone, value in implied.items() if value == subscription]
        if phones:
            Contact.objects.filter(phone__any_of=phones).exclude(sms_subscription=subscription).update(
                sms_subscription=subscription, updated_at=timezone.now()
            )
    return implied


def latest_references(consent_ids: list[int]) -> dict[int, str]:
    """consent id → the reference of its latest history row (the change that set its status)."""
    if not consent_ids:
        return {}
    latest = ConsentChange.objects.filter(consent_id=OuterRef("pk")).order_by("-pk").values("origin_ref")[:1]
    consents = Consent.objects.filter(pk__any_of=consent_ids).annotate(reference=Subquery(latest))
    return dict(consents.values_list("pk", "reference"))


def sync_whatsapp_fields(implied: dict[str, WhatsAppFields]) -> int:
    """Sets the WhatsApp consent fields of the contacts holding these numbers where they differ
    from what the ledger implies (number → fields); returns how many contacts changed."""
    if not implied:
        return 0
    now = timezone.now()
    rows = []
    for pk, number, *values in Contact.objects.filter(whatsapp_number__any_of=list(implied)).values_list(
        "pk", "whatsapp_number", *WHATSAPP_FIELDS
    ):
        wanted = implied[number]
        if tuple(values) != (wanted.consent, wanted.at, wanted.source):
            rows.append({"id": pk, **wanted.row(), "updated_at": now})
    return update_rows(Contact, rows, [*WHATSAPP_FIELDS, "updated_at"])


def whatsapp_fields_implied(numbers: Iterable[str]) -> dict[str, WhatsAppFields]:
    """Number → the WhatsApp consent fields the ledger implies for it (NO_WHATSAPP_CONSENT where
    the ledger holds nothing)."""
    numbers = list(dict.fromkeys(numbers))
    found = list(
        Consent.objects.filter(type=ConsentType.WHATSAPP, recipient__any_of=numbers).values_list(
            "pk", "recipient", "status", "consent_date"
        )
    )
    references = latest_references([pk for pk, *_ in found])
    implied = dict.fromkeys(numbers, NO_WHATSAPP_CONSENT)
    for pk, number, status, consent_date in found:
        implied[number] = whatsapp_fields(status, consent_date, references.get(pk) or "")
    return implied


def release_whatsapp_numbers(*, numbers: list[str], keep_ids: list[int]) -> int:
    """The numbers go to other contacts (the WhatsApp number import: one number, one contact):
    every other contact holding one loses it, and with it the WhatsApp consent it showed (the
    consent belongs to the number and stays in the ledger)."""
    if not numbers:
        return 0
    return (
        Contact.objects.filter(whatsapp_number__any_of=numbers)
        .exclude(pk__any_of=keep_ids)
        .update(whatsapp_number=None, **NO_WHATSAPP_CONSENT.row(), updated_at=timezone.now())
    )


def follow_addresses(sender=None, *, phone: Iterable[int] = (), whatsapp_number: Iterable[int] = (), **_kw) -> int:
    """contacts.signals.addresses_changed: a consent belongs to its number, not to the contact that
    had it. Contacts whose phone was set, changed or cleared get the SMS subscription the ledger's
    individual MESAJ consent for their phone implies (none held: a new contact's default);
    contacts whose WhatsApp number was, the WhatsApp consent the ledger holds for that number
    (none held: unknown), and that consent is linked to them (one number, one contact). So an
    opt-in never moves to a number nobody opted in with. Returns how many contacts changed."""
    from contacts.models import default_sms_subscription

    now = timezone.now()
    changed = 0
    if phone_ids := list(dict.fromkeys(phone)):
        contacts = list(Contact.objects.filter(pk__any_of=phone_ids).values_list("pk", "phone", "sms_subscription"))
        held = dict(
            Consent.objects.filter(
                type=ConsentType.MESAJ,
                recipient_type=RecipientType.BIREYSEL,
                recipient__any_of=[p for _pk, p, _s in contacts if p],
            ).values_list("recipient", "status")
        )
        default = default_sms_subscription()
        rows = []
        for pk, number, current in contacts:
            wanted = IMPLIED_SUBSCRIPTION[held[number]] if number in held else default
            if wanted != current:
                rows.append({"id": pk, "sms_subscription": wanted, "updated_at": now})
        changed += update_rows(Contact, rows, ["sms_subscription", "updated_at"])
    if whatsapp_ids := list(dict.fromkeys(whatsapp_number)):
        contacts = list(
            Contact.objects.filter(pk__any_of=whatsapp_ids).values_list("pk", "whatsapp_number", *WHATSAPP_FIELDS)
        )
        implied = whatsapp_fields_implied(n for _pk, n, *_v in contacts if n)
        rows = []
        for pk, number, *values in contacts:
            wanted = implied[number] if number else NO_WHATSAPP_CONSENT
            if tuple(values) != (wanted.consent, wanted.at, wanted.source):
                rows.append({"id": pk, **wanted.row(), "updated_at": now})
        changed += update_rows(Contact, rows, [*WHATSAPP_FIELDS, "updated_at"])
        holder = {number: pk for pk, number, *_v in contacts if number}  # one number, one contact
        links = Consent.objects.filter(type=ConsentType.WHATSAPP, recipient__any_of=list(holder))
        update_rows(
            Consent,
            [
                {"id": pk, "contact_id": holder[number]}
                for pk, number, linked in links.values_list("pk", "recipient", "contact_id")
                if linked != holder[number]
            ],
            ["contact_id"],
        )
    return changed
