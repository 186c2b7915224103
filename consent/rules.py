"""What the ledger accepts as a consent change (pure: no database). İYS's rules hold for the İYS
types (iys.md §7-8); the panel-only WHATSAPP type keeps those that make sense without İYS
(product.md WhatsApp channel: WhatsApp consent "never goes to İYS"). A refusal is worded in the
active language: an upload's bad-lines report and the panel show it (Turkish by default), the API
answers under translation.override("en")."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from consent.models import ConsentSource, ConsentStatus, ConsentType, RecipientType
from consent.parsers import IYS_START, source_problem
from contacts.parsers import Rejection

PHONE_TYPES = (ConsentType.MESAJ, ConsentType.ARAMA, ConsentType.WHATSAPP)
IYS_TYPES = frozenset({ConsentType.MESAJ, ConsentType.ARAMA, ConsentType.EPOSTA})
TYPES = frozenset(ConsentType.values)
STATUSES = frozenset(ConsentStatus.values)
PANEL_SOURCES = frozenset({ConsentSource.WHATSAPP, ConsentSource.NOT_STATED})
IYS_SOURCES = frozenset(ConsentSource.values) - PANEL_SOURCES
# Where a WhatsApp consent can come from: where the brand collected it (İYS's HS_* words, but not
# HS_2015, a date rule of İYS's own start), in WhatsApp itself, or not stated (the number import).
WHATSAPP_SOURCES = frozenset(
    {s for s in ConsentSource.values if s.startswith("HS_") and s != ConsentSource.HS_2015} | PANEL_SOURCES
)


def consent_problem(
    recipient: str, type: str, status: str, consent_date: datetime, source: str, now: datetime
) -> Rejection | None:
    """Why the ledger refuses this change (None when it accepts it). Every type: the type is
    known and fits the recipient (a phone in E.164 for MESAJ, ARAMA and WHATSAPP, an email for
    EPOSTA), the status is ONAY or RET, the date is not in the future. İYS types: the date is not
    before 01.05.2015, the source is İYS's, HS_2015 and HS_KARAR keep İYS's rules. WHATSAPP: the
    source is one of WHATSAPP_SOURCES, and HS_KARAR (the brand's decision) is for RET only."""
    if type not in TYPES:
        return Rejection(_("unknown consent type %(type)s") % {"type": type})
    if (type in PHONE_TYPES) != recipient.startswith("+"):
        return Rejection(
            _("consent type %(type)s does not fit the recipient %(recipient)s") % {"type": type, "recipient": recipient}
        )
    if status not in STATUSES:
        return Rejection(_("unknown consent status %(status)s") % {"status": status})
    if consent_date > now:
        return Rejection(_("the consent date is in the future"))
    if type == ConsentType.WHATSAPP:
        if source not in WHATSAPP_SOURCES:
            return Rejection(_("the source %(source)s does not apply to WhatsApp consent") % {"source": source})
        if source == ConsentSource.HS_KARAR and status != ConsentStatus.RET:
            return Rejection(_("the source HS_KARAR (the brand's own decision) is only allowed with RET"))
        return None
    if consent_date < IYS_START:
        return Rejection(_("the consent date is before 01.05.2015"))
    if source not in IYS_SOURCES:
        return Rejection(_("unknown consent source %(source)s") % {"source": source})
    if problem := source_problem(source, status, consent_date):
        return Rejection(problem)
    return None


def recipient_type_problem(type: str, recipient_type: str) -> Rejection | None:
    """WhatsApp consent belongs to a number, not to İYS's individual/merchant split: BIREYSEL only."""
    if type == ConsentType.WHATSAPP and recipient_type != RecipientType.BIREYSEL:
        return Rejection(_("WhatsApp consent has no recipient type: it is recorded as BIREYSEL"))
    return None
