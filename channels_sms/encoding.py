"""SMS encoding and segment counting, exactly per providers.md §7 (pure functions, no ORM).

GSM-7 default alphabet and extension table (§7.1), the Turkish national language locking and
single shift tables (§7.2), segment capacities by UDH (§7.3) and the choice of encoding (§7.4).
Providers count differently (§7.3 last note), so the count takes the provider's profile:
- "nli": the provider takes Turkish national language tables (Infobip languageCode TR, Netgsm TR);
- "gsm": GSM-7 or else UCS-2 (Instasent: NLI support unknown);
- "latin5": Latin-5 accounts count Turkish letters as one character, 160/153 (JetSMS §2.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.sms import SENDER_MAX, sender_problem  # noqa: F401  (re-exported: providers.md §7.7)

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
# Turkish locking shift: the basic table with eight code points replaced (§7.2)
_LOCKING_SWAPS = {"è": "€", "ì": "ı", "Ø": "Ğ", "ø": "ğ", "Æ": "Ş", "æ": "ş", "¡": "İ", "¿": "ç"}
TURKISH_LOCKING = "".join(_LOCKING_SWAPS.get(c, c) for c in GSM_BASIC)
TURKISH_SINGLE = GSM_EXTENSION + "ĞİŞçğış"

_BASIC = frozenset(GSM_BASIC) - {"\x1b"}
_EXT = frozenset(GSM_EXTENSION)
_LOCK = frozenset(TURKISH_LOCKING) - {"\x1b"}
_SINGLE = frozenset(TURKISH_SINGLE)
_LATIN5_TURKISH = frozenset("ÇçĞğİıÖöŞşÜü")

GSM7 = "GSM-7"
GSM7_TR_SINGLE = "GSM-7 + Turkish single shift"
GSM7_TR_LOCKING = "GSM-7 + Turkish locking shift"
GSM7_TR_BOTH = "GSM-7 + Turkish locking and single shift"
UCS2 = "UCS-2"
LATIN5 = "Latin-5"

# (single message, per part of a concatenated message), in septets or UTF-16 units (§7.3)
CAPACITY = {
    GSM7: (160, 153),
    GSM7_TR_SINGLE: (155, 149),
    GSM7_TR_LOCKING: (155, 149),
    GSM7_TR_BOTH: (152, 146),
    UCS2: (70, 67),
    LATIN5: (160, 153),
}
PROFILES = ("nli", "gsm", "latin5")


def encoding_label(encoding: str) -> str:
    """An encoding's name in the user's language (the constants are what the rows record)."""
    from django.utils.translation import gettext

    labels = {
        GSM7_TR_SINGLE: gettext("GSM-7 + Turkish single shift"),
        GSM7_TR_LOCKING: gettext("GSM-7 + Turkish locking shift"),
        GSM7_TR_BOTH: gettext("GSM-7 + Turkish locking and single shift"),
    }
    return labels.get(encoding, encoding)


# look-alikes normalised before counting and before sending (CONVENTIONS: healthchecks' Transport.tmpl)
_NORMALISE = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2028": "\n", "\u2029": "\n"})


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").translate(_NORMALISE)


@dataclass(frozen=True)
class Segmentation:
    encoding: str
    characters: int  # characters as the user sees them
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of each segment in units
    remaining: int  # units left in the last segment

    def as_dict(self) -> dict:
        return {
            "encoding": self.encoding,
            "characters": self.characters,
            "units": self.units,
            "segments": self.segments,
            "per_segment": self.per_segment,
            "remaining": self.remaining,
        }


def _costs(text: str, one: frozenset, two: frozenset) -> list[int] | None:
    costs = []
    for char in text:
        if char in one:
            costs.append(1)
        elif char in two:
            costs.append(2)
        else:
            return None
    return costs


def _ucs2_costs(text: str) -> list[int]:
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _fill(encoding: str, characters: int, costs: list[int]) -> Segmentation:
    """Greedy fill: an escape pair or a surrogate pair is never split across two parts."""
    single, part = CAPACITY[encoding]
    units = sum(costs)
    if units <= single:
        return Segmentation(encoding, characters, units, 1, single, single - units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return Segmentation(encoding, characters, units, segments, part, part - used)


def profile_for(connector) -> str:
    """The segmenting profile of a messaging connector (its `nli` and `latin5` flags)."""
    return "latin5" if getattr(connector, "latin5", False) else ("nli" if getattr(connector, "nli", False) else "gsm")


def count_segments(text: str, *, profile: str = "nli") -> Segmentation:
    """How a provider with `profile` will encode and split `text` (providers.md §7.4)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown segmenting profile {profile!r}")
    text = normalise(text)
    characters = len(text)
    if not text:
        return Segmentation(GSM7, 0, 0, 0, CAPACITY[GSM7][0], CAPACITY[GSM7][0])
    if profile == "latin5":
        costs = _costs(text, _BASIC | _LATIN5_TURKISH, _EXT)
        if costs is not None:
            return _fill(LATIN5, characters, costs)
        return _fill(UCS2, characters, _ucs2_costs(text))
    costs = _costs(text, _BASIC, _EXT)
    if costs is not None:
        return _fill(GSM7, characters, costs)
    if profile == "nli":
        candidates = []
        for encoding, one, two in (
            (GSM7_TR_LOCKING, _LOCK, _EXT),
            (GSM7_TR_SINGLE, _BASIC, _SINGLE),
            (GSM7_TR_BOTH, _LOCK, _SINGLE),
        ):
            costs = _costs(text, one, two)
            if costs is not None:
                candidates.append(_fill(encoding, characters, costs))
        if candidates:
            # fewest segments, then most room left (Infobip's preview vector, §7.6)
            return min(candidates, key=lambda s: (s.segments, -s.remaining))
    return _fill(UCS2, characters, _ucs2_costs(text))


def ucs2_characters(text: str, *, profile: str = "nli") -> list[str]:
    """The distinct characters, in order of first use, that no 7-bit table of `profile` holds:
    each of them alone makes the whole message UCS-2 (70 characters a segment, not 160)."""
    if profile == "latin5":
        known = _BASIC | _LATIN5_TURKISH | _EXT
    elif profile == "nli":
        known = _BASIC | _EXT | _LOCK | _SINGLE
    else:
        known = _BASIC | _EXT
    return list(dict.fromkeys(c for c in normalise(text) if c not in known))
