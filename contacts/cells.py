"""Cells of the spreadsheets the panel offers for download (CSV and XLSX), made safe to open
(product.md "What bad input gets": hostile cells). One rule for every download:

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by Excel,
LibreOffice or Google Sheets as a formula (OWASP "CSV Injection"), so it gets a leading single
quote, which the spreadsheet shows as text. A cell that is only a number with its sign
(`+905321234567`, `-12.5`) is left as it is: it cannot hold a formula, and the E.164 phone
numbers that fill these files stay readable and re-importable. The import side takes the quote
off again (`unquoted`), so an exported file imports back to the same values."""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def safe_cell(value):
    """`value` made safe for a spreadsheet cell (non-text values pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


def unquoted(value):
    """The value safe_cell() made into `value`: the quote it added taken off."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
