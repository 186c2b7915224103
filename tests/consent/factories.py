from datetime import datetime
from zoneinfo import ZoneInfo

from consent.services import ConsentInput, consent_apply

MAY_FIRST = datetime(2025, 5, 1, 10, tzinfo=ZoneInfo("Europe/Istanbul"))


def record_onay(contact, *, when=MAY_FIRST, origin="upload"):
    """A MESAJ ONAY for the contact's phone, written through the ledger as an upload would."""
    return consent_apply(
        changes=[
            ConsentInput(
                recipient=contact.phone,
                type="MESAJ",
                status="ONAY",
                source="HS_WEB",
                consent_date=when,
                contact_id=contact.pk,
            )
        ],
        origin=origin,
    )
