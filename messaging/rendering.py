"""Template variables (pure): `{{name}}` takes a contact field or a profile attribute,
`{{name|default text}}` falls back to the default when the contact has no value.
Contact fields: external_id, email, phone, whatsapp_number; anything else is a profile attribute
(name, city, ... as uploaded). Not Django templates: a marketer's text is never code."""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\|([^}]*))?\}\}")
CONTACT_FIELDS = ("external_id", "email", "phone", "whatsapp_number")


def variables(text: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    seen: dict[str, None] = {}
    for match in VARIABLE.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def required_variables(text: str) -> list[str]:
    """The variable names used somewhere without a default: a contact without a value for one
    gets it empty."""
    seen: dict[str, None] = {}
    for match in VARIABLE.finditer(text):
        if match.group(2) is None:
            seen.setdefault(match.group(1), None)
    return list(seen)


def render(text: str, values: Mapping[str, object]) -> tuple[str, list[str]]:
    """(rendered text, names that had neither a value nor a default)."""
    missing: list[str] = []

    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        value = values.get(name)
        if value is None or value == "":
            if default is None:
                missing.append(name)
                return ""
            return default.strip()
        return str(value)

    return VARIABLE.sub(substitute, text), missing


def contact_values(*, external_id=None, email=None, phone=None, whatsapp_number=None, attributes=None) -> dict:
    values = dict(attributes or {})
    values.update(
        {
            "external_id": external_id,
            "email": email,
            "phone": phone,
            "whatsapp_number": whatsapp_number,
        }
    )
    return values
