"""Turkish capitals: "i" capitalises to "İ" and "ı" to "I" (İzinler, not Izinler).

Django capitalises labels with django.utils.text.capfirst (form labels from verbose names, the
admin's model and app names, column headers) and the `capfirst` template filter, both with
str.upper(), which knows no language. `install()` (config.apps, at start-up) puts a language-aware
capfirst behind django.utils.text.capfirst, whose callers all hold the same decorated function; the
template filter is replaced through the `config.templatetags.turkish` builtin (settings.TEMPLATES).
"""

from __future__ import annotations

from django.utils.functional import lazy
from django.utils.translation import get_language

TURKIC = ("tr", "az")
SPECIAL_UPPER = {"i": "İ", "ı": "I"}


def upper_first(text: str, language: str | None) -> str:
    first = text[0]
    if language and language.split("-")[0] in TURKIC and first in SPECIAL_UPPER:
        return SPECIAL_UPPER[first] + text[1:]
    return first.upper() + text[1:]


def capfirst(x):
    """django.utils.text.capfirst, right for Turkish."""
    if not x:
        return x
    if not isinstance(x, str):
        x = str(x)
    return upper_first(x, get_language())


def install() -> None:
    """Swap the function inside django.utils.text.capfirst's keep_lazy_text wrapper (its `func`
    and the lazy version of it), so every module that imported capfirst gets the new one."""
    from django.utils import text

    wrapper = text.capfirst
    names = wrapper.__code__.co_freevars
    cells = dict(zip(names, wrapper.__closure__ or (), strict=True))
    if "func" not in cells or "lazy_func" not in cells:  # Django changed keep_lazy: fail loudly
        raise RuntimeError("django.utils.text.capfirst is not the keep_lazy wrapper this patch expects")
    if cells["func"].cell_contents is capfirst:
        return
    cells["func"].cell_contents = capfirst
    cells["lazy_func"].cell_contents = lazy(capfirst, str)
