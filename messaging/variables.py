"""Template variables against the contacts: a variable that matches no contact field and no
profile attribute of any contact (a typo: refused when the template is saved), and, before a
campaign is sent, how many of its contacts have no value for a variable that has no default."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils.translation import gettext as _

from contacts.models import Contact
from messaging.rendering import CONTACT_FIELDS


def known_attribute(name: str) -> bool:
    return Contact.objects.filter(attributes__has_key=name).exists()


def unknown_variables(names: list[str]) -> list[str]:
    """The names that are no contact field and no contact's profile attribute. With no contact
    at all nothing can be told yet: none is called unknown."""
    candidates = [n for n in names if n not in CONTACT_FIELDS]
    if not candidates or not Contact.objects.exists():
        return []
    return [n for n in candidates if not known_attribute(n)]


def unknown_variables_message(names: list[str]) -> str:
    shown = ", ".join("{{" + n + "}}" for n in names)
    return _(
        "%(variables)s matches no contact field (external_id, email, phone, whatsapp_number) and no "
        "profile attribute of any contact: check the spelling, or upload the contacts with that column first."
    ) % {"variables": shown}


@dataclass(frozen=True)
class Gap:
    variable: str  # as the marketer wrote it: {{name}}, body {{1}}
    source: str  # the contact field or profile attribute it takes
    contacts: int  # how many of the contacts about to get the message have no value for it


def variable_gaps(contacts: QuerySet, required: list[tuple[str, str]]) -> list[Gap]:
    """For each (variable, source) that has no default: how many of `contacts` lack a value.
    One aggregate query whatever the number of variables."""
    sources = list(dict.fromkeys(source for _variable, source in required if source))
    if not sources:
        return []
    annotations, counts = {}, {}
    for index, source in enumerate(sources):
        if source in CONTACT_FIELDS:
            empty = Q(**{f"{source}__isnull": True}) | Q(**{source: ""})
        else:
            # missing key, JSON null (what rendering takes as no value) or an empty text
            key, text = f"_v{index}", f"_t{index}"
            annotations[key] = KeyTransform(source, "attributes")
            annotations[text] = KeyTextTransform(source, "attributes")
            empty = Q(**{f"{key}__isnull": True}) | Q(**{key: None}) | Q(**{text: ""})
        counts[f"gap{index}"] = Count("pk", filter=empty)
    figures = contacts.annotate(**annotations).aggregate(**counts)
    by_source = {source: figures[f"gap{index}"] or 0 for index, source in enumerate(sources)}
    return [Gap(variable, source, by_source[source]) for variable, source in required if by_source.get(source)]


def gap_warning(gap: Gap, of: int) -> str:
    """The warning before sending, in the user's language with the numbers grouped."""
    from django.utils.formats import number_format

    return _(
        "%(n)s of the %(of)s contacts have no %(source)s for %(variable)s, which has no default: "
        "give it a default, or leave them out of the audience."
    ) % {
        "n": number_format(gap.contacts, use_l10n=True, force_grouping=True),
        "of": number_format(of, use_l10n=True, force_grouping=True),
        "source": gap.source,
        "variable": gap.variable,
    }
