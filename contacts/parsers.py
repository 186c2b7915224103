"""Pure line parsers for File Transfers: text in, a record or a Rejection out. No ORM, no I/O
(CONVENTIONS: parsers are pure), so they are property-tested with hypothesis.

A Rejection's reason is a sentence in the language active when the line is parsed (gettext with
named placeholders). A File Transfer is parsed by the `imports` worker, which has no request:
contacts.tasks parses in settings.LANGUAGE_CODE (Turkish, the panel's default), so the stored
bad-line reasons are Turkish in the panel and in the downloaded report alike. The contact import
parses in the request, in the user's language; the API runs under translation.override("en"), so
its reasons stay English. A reason is stored as text, not as a code to translate when shown: the
report is the CSV of what the panel shows, and a transfer's reasons stay in one language."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_LINE_CHARS = 4000
MAX_EMAIL_CHARS = 254


@dataclass(frozen=True)
class Rejection:
    reason: str


@dataclass(frozen=True)
class UserLine:
    phone: str
    external_id: str | None


@dataclass(frozen=True)
class WhatsAppLine:
    wp_number: str
    opt_in: bool
    external_id: str | None = None
    email: str | None = None
    msisdn: str | None = None


# --- encodings ----------------------------------------------------------------------------
def detect_encoding(head: bytes, *, rest_is_utf8: bool | None = None) -> str:
    """'utf-8-sig' for a BOM, 'utf-8' for valid UTF-8, else 'cp1254' (Turkish Excel exports)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if rest_is_utf8 is not None:
        return "utf-8" if rest_is_utf8 else "cp1254"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1254"
    return "utf-8"


def is_utf8(chunks) -> bool:
    """True when every chunk (bytes, in order) decodes as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            decoder.decode(chunk, final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def is_utf8_line(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def mostly_utf8(lines) -> bool:
    """For a file that is not UTF-8 throughout: are most of its lines with non-ASCII bytes UTF-8?
    Then the file is UTF-8 with some lines in another encoding (each is rejected, not garbled);
    else it is a Windows-1254 file, where a Turkish letter is never valid UTF-8."""
    utf8 = other = 0
    for raw in lines:
        if raw.isascii():
            continue
        if is_utf8_line(raw):
            utf8 += 1
        else:
            other += 1
    return utf8 > other


# --- fields -------------------------------------------------------------------------------
NBSP = "\u00a0"


def split_fields(text: str, sep: str) -> list[str]:
    """Split on `sep`, trim spaces around each field, and forgive one trailing separator."""
    fields = [f.strip(" \t" + NBSP) for f in text.split(sep)]
    if len(fields) > 1 and fields[-1] == "":
        fields.pop()
    return fields


_DIGITS = re.compile(r"\d+")


def _tr_mobile_pattern() -> re.Pattern:
    # phonenumbers' own pattern for Turkish mobiles: a full match is a valid number by its rules,
    # checked here in ~1 µs instead of ~150 µs (İYS files are mostly +90 5xx numbers).
    desc = phonenumbers.PhoneMetadata.metadata_for_region("TR").mobile
    return re.compile(desc.national_number_pattern)


_TR_MOBILE = _tr_mobile_pattern()


def parse_msisdn(value: str, *, what: str, allow_plus: bool) -> str | Rejection:
    """An international number written as digits with its country code ('905331234562';
    with `allow_plus`, '+905331234562' too). Returns E.164 or a Rejection."""
    if not value:
        return Rejection(_("the %(what)s is missing") % {"what": what})
    digits = value[1:] if allow_plus and value.startswith("+") else value
    named = {"what": what, "value": value}
    if not _DIGITS.fullmatch(digits) or not digits.isascii():
        if value.startswith("+"):
            return Rejection(_("the %(what)s '%(value)s' must be digits only, without '+'") % named)
        return Rejection(
            _(
                "the %(what)s '%(value)s' must be digits only (no spaces, dashes or letters), starting with the "
                "country code"
            )
            % named
        )
    if digits.startswith("0"):
        return Rejection(_("the %(what)s '%(value)s' must start with the country code (90 for Turkey), not 0") % named)
    if len(digits) == 12 and digits.startswith("90") and _TR_MOBILE.fullmatch(digits, 2):
        return "+" + digits
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return Rejection(_("the %(what)s '%(value)s' is not a valid international number") % named)
    if not phonenumbers.is_valid_number(number):
        return Rejection(_("the %(what)s '%(value)s' is not a valid international number") % named)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_email_validator = EmailValidator()


def parse_email(value: str) -> str | Rejection:
    """A valid address, lower-cased (İYS compares addresses case-insensitively in practice)."""
    if not value:
        return Rejection(_("the email address is missing"))
    if len(value) > MAX_EMAIL_CHARS:  # the validator allows 320, a contact's column holds 254 (RFC 5321)
        return Rejection(_("the email address is longer than %(max)d characters") % {"max": MAX_EMAIL_CHARS})
    try:
        _email_validator(value)
    except ValidationError:
        return Rejection(_("'%(value)s' is not a valid email address") % {"value": value})
    return value.lower()


def _too_long(text: str) -> Rejection | None:
    if len(text) > MAX_LINE_CHARS:
        return Rejection(_("the line is longer than %(max)d characters") % {"max": MAX_LINE_CHARS})
    return None


# --- User upload: `token, externalId` ------------------------------------------------------
TOKEN = gettext_lazy("token (phone number)")  # the column's name in a reason (lazy: read only for a rejection)


def is_user_header(text: str) -> bool:
    fields = [f.lower() for f in split_fields(text, ",")]
    return bool(fields) and fields[0] in ("token", "hwid", "phone", "msisdn")


def parse_user_line(text: str) -> UserLine | Rejection:
    if rejection := _too_long(text):
        return rejection
    fields = split_fields(text, ",")
    if len(fields) > 2:
        return Rejection(
            _("expected 2 fields (token, externalId) separated by ',', found %(found)d") % {"found": len(fields)}
        )
    phone = parse_msisdn(fields[0], what=TOKEN, allow_plus=True)
    if isinstance(phone, Rejection):
        return phone
    external_id = fields[1] if len(fields) == 2 and fields[1] else None
    if external_id and len(external_id) > 191:
        return Rejection(_("the externalId is longer than 191 characters"))
    return UserLine(phone=phone, external_id=external_id)


# --- WhatsApp number import: header `exid, email, msisdn, wpNumber, permission` -----------
WHATSAPP_COLUMNS = ("exid", "email", "msisdn", "wpnumber", "permission")
WHATSAPP_REQUIRED = ("wpnumber", "permission")


@dataclass(frozen=True)
class WhatsAppHeader:
    sep: str
    columns: dict[str, int]


def parse_whatsapp_header(text: str) -> WhatsAppHeader | Rejection:
    sep = ";" if text.count(";") > text.count(",") else ","
    names = [f.lower() for f in split_fields(text, sep)]
    unknown = [n for n in names if n not in WHATSAPP_COLUMNS]
    if unknown:
        return Rejection(
            _("the header has unknown column(s) %(unknown)s; expected exid, email, msisdn, wpNumber, permission")
            % {"unknown": ", ".join(unknown)}
        )
    missing = [n for n in WHATSAPP_REQUIRED if n not in names]
    if missing:
        label = {"wpnumber": "wpNumber", "permission": "permission"}
        return Rejection(
            _("the header lacks the required column(s) %(missing)s") % {"missing": ", ".join(label[m] for m in missing)}
        )
    if len(set(names)) != len(names):
        return Rejection(_("the header names a column twice"))
    return WhatsAppHeader(sep=sep, columns={n: i for i, n in enumerate(names)})


def parse_whatsapp_line(text: str, header: WhatsAppHeader) -> WhatsAppLine | Rejection:
    if rejection := _too_long(text):
        return rejection
    fields = split_fields(text, header.sep)
    if len(fields) != len(header.columns):
        return Rejection(
            _("expected %(expected)d fields separated by '%(sep)s', found %(found)d")
            % {"expected": len(header.columns), "sep": header.sep, "found": len(fields)}
        )

    def get(name):
        index = header.columns.get(name)
        return fields[index] if index is not None else ""

    permission = get("permission")
    if permission not in ("1", "2"):
        if not permission:
            return Rejection(_("the permission is missing (1 = opt-in, 2 = opt-out)"))
        return Rejection(_("the permission '%(value)s' is not 1 (opt-in) or 2 (opt-out)") % {"value": permission})
    wp_number = parse_msisdn(get("wpnumber"), what="wpNumber", allow_plus=True)
    if isinstance(wp_number, Rejection):
        return wp_number
    email = None
    if get("email"):
        email = parse_email(get("email"))
        if isinstance(email, Rejection):
            return email
    msisdn = None
    if get("msisdn"):
        msisdn = parse_msisdn(get("msisdn"), what="msisdn", allow_plus=True)
        if isinstance(msisdn, Rejection):
            return msisdn
    exid = get("exid") or None
    if exid and len(exid) > 191:
        return Rejection(_("the exid is longer than 191 characters"))
    return WhatsAppLine(wp_number=wp_number, opt_in=permission == "1", external_id=exid, email=email, msisdn=msisdn)
