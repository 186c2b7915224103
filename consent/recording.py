"""One consent change from the brand's systems (the API), through the ledger like every other
(product.md: The public API, consents). The recipient is normalised, the contact holding it is
linked, and the ledger's rules decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from consent.models import ChangeOrigin, Consent, ConsentChange, ConsentType, RecipientType
from consent.parsers import parse_source
from consent.services import UNCHANGED, ConsentInput, consent_apply
from contacts.models import Contact
from contacts.parsers import Rejection, parse_email
from contacts.phones import to_e164

ISTANBUL = ZoneInfo("Europe/Istanbul")
# the contact field that holds a recipient of each type
CONTACT_FIELD = {
    ConsentType.MESAJ: "phone",
    ConsentType.ARAMA: "phone",
    ConsentType.EPOSTA: "email",
    ConsentType.WHATSAPP: "whatsapp_number",
}


@dataclass
class Recorded:
    outcome: str  # created | updated | unchanged
    consent: Consent
    change: ConsentChange | None  # None when unchanged: nothing was appended


class ConsentRefused(Exception):
    """The ledger's (İYS's) rules refuse the change; the message says why."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


def parse_consent_date(text: str) -> datetime:
    """ISO 8601, or İYS's 'YYYY-MM-DD HH:mm:ss'; Europe/Istanbul when no offset is given."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConsentRefused(
            f"'{text}' is not a date: use ISO 8601 (2025-05-15T14:23:00+03:00) or 2025-05-15 14:23:00",
            field="consent_date",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ISTANBUL)


def normalise_recipient(recipient: str, type: str) -> str:
    if type == ConsentType.EPOSTA:
        result = parse_email(recipient.strip())
        if isinstance(result, Rejection):
            raise ConsentRefused(result.reason, field="recipient")
        return result
    parsed = to_e164(recipient)
    if parsed is None:
        raise ConsentRefused(f"'{recipient}' is not a valid phone number", field="recipient")
    return parsed


def consent_record(
    *,
    recipient: str,
    type: str,
    status: str,
    consent_date: datetime,
    source: str,
    recipient_type: str = "",
    origin_ref: str,
) -> Recorded:
    """Record one change from the API. `source`: İYS's HS_* value or a platform the uploads
    accept ("web", "store", ...); İYS's own IYS_* sources are refused (a citizen acting at İYS
    reaches us through the pull)."""
    if type not in CONTACT_FIELD:
        raise ConsentRefused(f"unknown consent type {type}; use MESAJ, ARAMA, EPOSTA or WHATSAPP", field="type")
    recipient = normalise_recipient(recipient, type)
    parsed_source = parse_source(source.strip())
    if isinstance(parsed_source, Rejection):
        raise ConsentRefused(parsed_source.reason, field="source")
    if parsed_source.startswith("IYS_"):
        raise ConsentRefused(
            f"{parsed_source} is İYS's own source (a citizen acting at İYS); give where the brand collected it",
            field="source",
        )
    recipient_type = recipient_type or RecipientType.BIREYSEL
    contact_id = (
        Contact.objects.filter(**{CONTACT_FIELD[type]: recipient}).order_by("pk").values_list("pk", flat=True).first()
    )
    appended: dict[int, int] = {}
    [result] = consent_apply(
        changes=[
            ConsentInput(
                recipient=recipient,
                type=type,
                status=status,
                consent_date=consent_date,
                source=parsed_source,
                recipient_type=recipient_type,
                contact_id=contact_id,
                origin_ref=origin_ref[:255],
            )
        ],
        origin=ChangeOrigin.API,
        appended=appended,
    )
    if isinstance(result, Rejection):
        raise ConsentRefused(result.reason)
    consent = Consent.objects.get(recipient=recipient, type=type, recipient_type=recipient_type)
    change = ConsentChange.objects.get(pk=appended[0]) if result != UNCHANGED else None
    return Recorded(result, consent, change)
