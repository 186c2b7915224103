"""Parsing helpers for what providers push to us (webhooks) or answer (reports): whatever the
shape of a field, a typed value that fits its column, or nothing (product.md "What bad input
gets": an unexpected shape is logged and acknowledged, never a crash). Pure functions, no ORM."""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation

from providers.base import WebhookRejected


def webhook_json(body: bytes):
    """The decoded JSON of a webhook body; WebhookRejected for anything that is not JSON
    (invalid UTF-8, truncated, nested deeper than the decoder's recursion limit)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise WebhookRejected("the JSON is nested too deeply") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WebhookRejected("not JSON") from None


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_text(value, *, limit: int = 255) -> str:
    """A string or a number as text, without NUL (PostgreSQL refuses it in text) and cut to
    `limit`; "" for anything else (null, lists, objects, booleans)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, int) and abs(value) >= 10**limit:
        return ""  # str() of a huge int is slow, and refused beyond 4300 digits
    return str(value).replace("\x00", "")[:limit]


def as_identifier(value, *, limit: int = 80) -> str:
    """A provider's or our message id, or a phone number: printable ASCII of at most `limit`
    characters, else "" (a NUL inside makes it no id at all, rather than another one)."""
    raw = value if isinstance(value, str) else as_text(value, limit=limit + 1)
    text = raw[: limit + 1].strip()
    if not text or len(text) > limit or not text.isascii() or not text.isprintable():
        return ""
    return text


def as_int(value, *, low: int = 0, high: int = 32767) -> int | None:
    """An integer in [low, high], given as a number or as digits; None otherwise (the columns it
    lands in are small integers: a larger value would be a database error, not a count)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    elif isinstance(value, str):
        digits = value.strip()
        value = int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 12 else None
    if isinstance(value, int) and low <= value <= high:
        return value
    return None


def as_decimal(value, *, max_digits: int = 12, places: int = 5) -> Decimal | None:
    """A finite amount that fits DecimalField(max_digits, places); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = as_text(value, limit=41).strip()
    if not text or len(text) > 40:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** (max_digits - places):
        return None
    if amount.as_tuple().exponent < -places:  # more decimals than the column keeps: round them here
        amount = amount.quantize(Decimal(1).scaleb(-places))
    return amount
