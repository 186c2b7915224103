"""What a marketer types into a WhatsApp template, checked in their words (product.md "WhatsApp
channel" → Templates). Meta's limits are providers.md §6.4; the variable rules that are not
limits (no variable at the start or end of the text, none side by side, numbered without gaps)
are why Meta's reviewers reject templates most often. Pure functions: text in, messages out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

# A variable as Meta takes it: {{1}}, {{2}} … (no spaces, no names: this editor writes POSITIONAL templates)
VARIABLE = re.compile(r"\{\{([1-9][0-9]*)\}\}")
_BRACED = re.compile(r"\{\{[^{}]*\}\}|\{\{|\}\}")
_NAMED = re.compile(r"^\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}$")
_SIDE_BY_SIDE = re.compile(r"(\{\{[0-9]+\}\})\s*(\{\{[0-9]+\}\})")
NAME_CHARACTERS = re.compile(r"^[a-z0-9_]+$")  # a template's name (Meta: ≤ 512 of them)
# the contact's own fields; any other source is a profile attribute (as in SMS templates)
CONTACT_FIELDS = ("external_id", "email", "phone", "whatsapp_number")
ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")
# media that WhatsApp does not take as a template header (images: JPEG/PNG, videos: MP4/3GP)
_WRONG_MEDIA = {
    "image": {"gif", "webp", "bmp", "svg", "heic", "tif", "tiff"},
    "video": {"mov", "avi", "mkv", "webm", "wmv", "flv"},
}


def _language(code: str, name) -> tuple[str, object]:
    return code, format_lazy("{} ({})", name, code)


# Meta's codes (underscore, not Django's hyphen); the usual ones for a Turkish brand first
LANGUAGES = [
    _language("tr", gettext_lazy("Turkish")),
    _language("en", gettext_lazy("English")),
    _language("en_US", gettext_lazy("English (US)")),
    _language("en_GB", gettext_lazy("English (UK)")),
    _language("de", gettext_lazy("German")),
    _language("fr", gettext_lazy("French")),
    _language("nl", gettext_lazy("Dutch")),
    _language("es", gettext_lazy("Spanish")),
    _language("it", gettext_lazy("Italian")),
    _language("ru", gettext_lazy("Russian")),
    _language("uk", gettext_lazy("Ukrainian")),
    _language("ar", gettext_lazy("Arabic")),
    _language("fa", gettext_lazy("Persian")),
    _language("az", gettext_lazy("Azerbaijani")),
    _language("bg", gettext_lazy("Bulgarian")),
    _language("el", gettext_lazy("Greek")),
    _language("ro", gettext_lazy("Romanian")),
    _language("pl", gettext_lazy("Polish")),
]
# The stop-promotions label in the template's own language (the recipient reads it, not the marketer)
STOP_LABELS = {
    "tr": "Kampanyaları durdur",
    "en": "Stop promotions",
    "de": "Werbung stoppen",
    "fr": "Arrêter les promotions",
    "nl": "Stop promoties",
    "es": "Detener promociones",
    "it": "Interrompi promozioni",
    "ru": "Отписаться от акций",
    "uk": "Відписатися від акцій",
    "ar": "إيقاف العروض",
    "fa": "توقف تبلیغات",
    "az": "Kampaniyaları dayandır",
    "bg": "Спри промоциите",
    "el": "Διακοπή προσφορών",
    "ro": "Oprește promoțiile",
    "pl": "Zatrzymaj promocje",
}


def stop_label(language: str) -> str:
    return STOP_LABELS.get((language or "").split("_")[0], STOP_LABELS["en"])


def numbers(text: str) -> list[int]:
    """The variable numbers in the text, in order of appearance."""
    return [int(n) for n in VARIABLE.findall(text or "")]


def too_long(text: str, most: int) -> str | None:
    if len(text) > most:
        return _("Too long: %(count)d characters; WhatsApp allows at most %(most)d.") % {
            "count": len(text),
            "most": most,
        }
    return None


def numbering_problems(text: str, *, most: int) -> list[str]:
    """How the variables of `text` break Meta's rules for writing and numbering them: each is
    {{n}}, numbered from 1 without gaps, used once, at most `most` of them."""
    for match in _BRACED.finditer(VARIABLE.sub("", text)):
        found = match.group(0)
        if _NAMED.match(found):
            return [
                _("Named variables such as %(found)s are not supported here: number them {{1}}, {{2}} …")
                % {"found": found}
            ]
        return [
            _("Write variables as {{1}}, {{2}} … (a number in double curly braces, no spaces); “%(found)s” is not one.")
            % {"found": found}
        ]
    used = numbers(text)
    if len(set(used)) > most:
        if most == 1:
            return [_("Only one variable is allowed here, written {{1}}.")]
        return [_("At most %(most)d variables are allowed here.") % {"most": most}]
    problems: list[str] = []
    for number in sorted(set(used)):
        if used.count(number) > 1:
            problems.append(
                _(
                    "{{%(n)d}} appears %(count)d times; use each variable once "
                    "(another number may carry the same value)."
                )
                % {"n": number, "count": used.count(number)}
            )
    missing = [n for n in range(1, max(used, default=0) + 1) if n not in used]
    if missing:
        words = ngettext(
            "Number the variables from {{1}} without gaps: %(missing)s is missing.",
            "Number the variables from {{1}} without gaps: %(missing)s are missing.",
            len(missing),
        )
        problems.append(words % {"missing": ", ".join(f"{{{{{n}}}}}" for n in missing)})
    return problems


def placement_problems(text: str, *, edges: bool) -> list[str]:
    """Variables where Meta's reviewers refuse them: side by side, or (`edges`: the body) at the
    very start or end of the text."""
    problems: list[str] = []
    if edges and numbers(text):
        stripped = text.strip()
        if VARIABLE.match(stripped) or re.search(r"\{\{[0-9]+\}\}$", stripped):
            problems.append(
                _(
                    "The text may not begin or end with a variable (WhatsApp's reviewers refuse it): "
                    "add a word before or after it."
                )
            )
    for first, second in _SIDE_BY_SIDE.findall(text):
        problems.append(
            _("Put some words between %(first)s and %(second)s: WhatsApp's reviewers refuse variables side by side.")
            % {"first": first, "second": second}
        )
    return problems


def url_problems(url: str, *, most: int) -> list[str]:
    """A website button's link: http(s), at most one variable, at its very end, after the host."""
    if problem := too_long(url, most):
        return [problem]
    used = VARIABLE.findall(url)
    if _BRACED.search(VARIABLE.sub("", url)) or len(used) > 1 or (used and not url.endswith("{{1}}")):
        return [
            _("A link may hold one variable, written {{1}}, at its very end, e.g. https://example.com/order/{{1}}.")
        ]
    fixed = url[: -len("{{1}}")] if used else url
    try:
        URLValidator(schemes=["http", "https"])(fixed + ("x" if used else ""))
    except ValidationError:
        return [_("Write the whole web address, starting with https://")]
    if used and not urlsplit(fixed).path and not urlsplit(fixed).query:
        return [_("Put the variable after the address's first slash, e.g. https://example.com/{{1}}.")]
    return []


def media_problems(link: str, kind: str) -> list[str]:
    extension = urlsplit(link).path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    if extension in _WRONG_MEDIA.get(kind, ()):
        if kind == "image":
            return [_("WhatsApp shows JPEG or PNG images; this link is a .%(ext)s file.") % {"ext": extension}]
        return [_("WhatsApp plays MP4 or 3GP videos; this link is a .%(ext)s file.") % {"ext": extension}]
    return []


def source_problems(source: str) -> list[str]:
    if source and source not in CONTACT_FIELDS and not ATTRIBUTE.match(source):
        return [
            _(
                "Write a contact field (%(fields)s) or the name of a profile attribute "
                "(letters, digits, _ . - and no spaces)."
            )
            % {"fields": ", ".join(CONTACT_FIELDS)}
        ]
    return []


def phone_problems(phone: str) -> list[str]:
    if not PHONE.match(phone):
        return [_("Write the number in international form: + and the country code, e.g. +908501234567.")]
    return []
