"""Pure parsers for the İYS uploads (product.md File transfers 2 and 3):
`recipient; platform; permission; timestamp; externalId(optional)`, no header row. Reasons are
worded in the active language, as contacts.parsers' are (the worker parses in LANGUAGE_CODE)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.parsers import MAX_LINE_CHARS, Rejection, parse_email, parse_msisdn, split_fields

ISTANBUL = ZoneInfo("Europe/Istanbul")
IYS_START = datetime(2015, 5, 1, 0, 0, 0, tzinfo=ISTANBUL)
_TIMESTAMP = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})")
_EMAIL_IYS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")

# The platform a consent was acquired on → İYS source (iys.md §6.4). Keys are lower-case.
PLATFORM_SOURCES = {
    "web": "HS_WEB",
    "website": "HS_WEB",
    "form": "HS_WEB",
    "webform": "HS_WEB",
    "mobile": "HS_MOBIL",
    "mobil": "HS_MOBIL",
    "mobileapp": "HS_MOBIL",
    "app": "HS_MOBIL",
    "mobile/web": "HS_MOBIL",
    "sms": "HS_MESAJ",
    "mesaj": "HS_MESAJ",
    "email": "HS_EPOSTA",
    "e-mail": "HS_EPOSTA",
    "eposta": "HS_EPOSTA",
    "e-posta": "HS_EPOSTA",
    "callcenter": "HS_CAGRI_MERKEZI",
    "call center": "HS_CAGRI_MERKEZI",
    "cagri merkezi": "HS_CAGRI_MERKEZI",
    "social": "HS_SOSYAL_MEDYA",
    "socialmedia": "HS_SOSYAL_MEDYA",
    "sosyal medya": "HS_SOSYAL_MEDYA",
    "store": "HS_FIZIKSEL_ORTAM",
    "physical": "HS_FIZIKSEL_ORTAM",
    "fiziksel": "HS_FIZIKSEL_ORTAM",
    "signature": "HS_ISLAK_IMZA",
    "islak imza": "HS_ISLAK_IMZA",
    "paper": "HS_ISLAK_IMZA",
    "event": "HS_ETKINLIK",
    "etkinlik": "HS_ETKINLIK",
    "atm": "HS_ATM",
    "eortam": "HS_EORTAM",
}
HS_SOURCES = {
    "HS_FIZIKSEL_ORTAM",
    "HS_ISLAK_IMZA",
    "HS_WEB",
    "HS_MOBIL",
    "HS_CAGRI_MERKEZI",
    "HS_SOSYAL_MEDYA",
    "HS_EPOSTA",
    "HS_MESAJ",
    "HS_EORTAM",
    "HS_ETKINLIK",
    "HS_ATM",
    "HS_2015",
    "HS_KARAR",
}


@dataclass(frozen=True)
class IysLine:
    recipient: str
    source: str
    status: str  # ONAY | RET
    consent_date: datetime  # aware
    external_id: str | None


def parse_source(platform: str) -> str | Rejection:
    if not platform:
        return Rejection(_("the platform (where the consent was acquired) is missing"))
    if platform.upper() in HS_SOURCES:
        return platform.upper()
    source = PLATFORM_SOURCES.get(platform.lower())
    if source is None:
        return Rejection(
            _(
                "the platform '%(value)s' is not known; use e.g. SMS, web, mobileapp, EMAIL, form, "
                "callcenter, store, event, or an İYS source such as HS_WEB"
            )
            % {"value": platform}
        )
    return source


def parse_timestamp(value: str, *, now: datetime) -> datetime | Rejection:
    if not value:
        return Rejection(_("the timestamp is missing"))
    match = _TIMESTAMP.fullmatch(value)
    if not match:
        return Rejection(
            _("the timestamp '%(value)s' is not in the form dd.MM.yyyy HH:mm:ss (e.g. 15.05.2025 14:23:00)")
            % {"value": value}
        )
    day, month, year, hour, minute, second = map(int, match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=ISTANBUL)
    except ValueError:
        return Rejection(_("the date %(value)s does not exist") % {"value": value})
    if moment > now:
        return Rejection(_("the date %(value)s is in the future") % {"value": value})
    if moment < IYS_START:
        return Rejection(
            _(
                "the date %(value)s is before 01.05.2015; consents from before İYS use the HS_2015 "
                "platform with the date 01.05.2015 00:00:00"
            )
            % {"value": value}
        )
    return moment


def _parse(text: str, *, now: datetime, recipient_parser) -> IysLine | Rejection:
    if len(text) > MAX_LINE_CHARS:
        return Rejection(_("the line is longer than %(max)d characters") % {"max": MAX_LINE_CHARS})
    fields = split_fields(text, ";")
    if len(fields) == 3 and fields[2] in ("ONAY", "RET"):
        return Rejection(_("the timestamp is missing (dd.MM.yyyy HH:mm:ss after the permission)"))
    if len(fields) not in (4, 5):
        return Rejection(
            _(
                "expected 4 or 5 fields separated by ';' (recipient; platform; permission; timestamp; "
                "externalId), found %(found)d"
            )
            % {"found": len(fields)}
        )
    recipient = recipient_parser(fields[0])
    if isinstance(recipient, Rejection):
        return recipient
    source = parse_source(fields[1])
    if isinstance(source, Rejection):
        return source
    status = fields[2]
    if status not in ("ONAY", "RET"):
        if not status:
            return Rejection(_("the permission is missing (ONAY or RET)"))
        if status.upper() in ("ONAY", "RET"):
            return Rejection(
                _("the permission '%(value)s' must be written in capitals: %(capitals)s")
                % {"value": status, "capitals": status.upper()}
            )
        return Rejection(_("the permission '%(value)s' is not ONAY or RET") % {"value": status})
    moment = parse_timestamp(fields[3], now=now)
    if isinstance(moment, Rejection):
        return moment
    if problem := source_problem(source, status, moment):
        return Rejection(problem)
    external_id = fields[4] if len(fields) == 5 and fields[4] else None
    if external_id and len(external_id) > 191:
        return Rejection(_("the externalId is longer than 191 characters"))
    return IysLine(recipient=recipient, source=source, status=status, consent_date=moment, external_id=external_id)


def source_problem(source: str, status: str, moment: datetime) -> str:
    """İYS's rules tying a source to the status and date (iys.md §8); empty when none is broken."""
    if source == "HS_2015" and moment != IYS_START:
        return _("a consent with platform HS_2015 must have the date 01.05.2015 00:00:00")
    if source == "HS_KARAR" and status != "RET":
        return _("the platform HS_KARAR (the brand's own decision) is only allowed with RET")
    return ""


def _iys_email(value: str) -> str | Rejection:
    email = parse_email(value)
    if isinstance(email, Rejection):
        return email
    if not _EMAIL_IYS.fullmatch(email) or len(email) < 6:
        return Rejection(
            _("'%(value)s' is not an address İYS accepts (no Turkish letters, spaces or special characters)")
            % {"value": value}
        )
    return email


PHONE = gettext_lazy("phone")  # the recipient in a reason (contacts.parsers words reasons in the active language)


def parse_sms_iys_line(text: str, *, now: datetime) -> IysLine | Rejection:
    return _parse(text, now=now, recipient_parser=lambda v: parse_msisdn(v, what=PHONE, allow_plus=False))


def parse_email_iys_line(text: str, *, now: datetime) -> IysLine | Rejection:
    return _parse(text, now=now, recipient_parser=_iys_email)
