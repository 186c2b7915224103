"""Phone numbers: pure helpers around `phonenumbers` (no ORM)."""

from __future__ import annotations

import phonenumbers


def to_e164(text: str, *, default_region: str | None = "TR") -> str | None:
    """Best-effort normalisation of what a person types ("0533 123 45 62", "+90 533...") to
    E.164; None when it is not a valid number. Strict file formats use their own parsers."""
    text = (text or "").strip()
    if not text or any(ch.isalpha() for ch in text):  # phonenumbers reads letters as keypad digits
        return None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
