"""A WhatsApp campaign's own bindings of its template's variables (issue 13 §2: "a campaign may
override"): for each variable of the template, where its value comes from and its default, shown
with the template's as the starting point; only what differs from the template is kept on the
campaign (Campaign.variables), so a later change on the template still reaches the rest."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from channels_whatsapp.rendering import variables_of


def field_names(part: str, name: str) -> tuple[str, str]:
    slug = part.replace(":", "")
    return f"var_{slug}_{name}_source", f"var_{slug}_{name}_default"


def variable_fields(template) -> dict[str, tuple[str, str, str]]:
    """(part, name) of each field, by field name, in the template's order."""
    fields = {}
    for part, names in variables_of(template.components if template else []).items():
        for name in names:
            source, default = field_names(part, name)
            fields[source] = (part, name, "source")
            fields[default] = (part, name, "default")
    return fields


def _where(part: str, name: str):
    if part.startswith("button:"):
        return format_lazy(_("Button {n} link"), n=int(part.split(":")[1]) + 1)
    if part == "header":
        return _("Header")
    return format_lazy(_("Message {{{{{name}}}}}"), name=name)


def form_with_variables(base: type[forms.ModelForm], campaign) -> type[forms.ModelForm]:
    """`base` with a source and a default field per variable of the campaign's template."""
    template = campaign.template if campaign is not None and campaign.template_id else None
    declared = {}
    for field, (part, name, what) in variable_fields(template).items():
        where = _where(part, name)
        if what == "source":
            declared[field] = forms.CharField(
                label=format_lazy(_("{where}: value from"), where=where),
                required=False,
                max_length=100,
                help_text=_("A contact field (external_id, email, phone, whatsapp_number) or a profile attribute."),
            )
        else:
            declared[field] = forms.CharField(
                label=format_lazy(_("{where}: default"), where=where),
                required=False,
                max_length=1024,
                help_text=_("Sent to contacts who have no value."),
            )
    return type(f"{base.__name__}WithVariables", (base,), declared)


def initial_values(campaign) -> dict:
    template = campaign.template
    merged = {**(template.variables or {})}
    initial = {}
    for field, (part, name, what) in variable_fields(template).items():
        entry = (campaign.variables or {}).get(part, {}).get(name) or (merged.get(part) or {}).get(name) or {}
        initial[field] = entry.get(what, "") if isinstance(entry, dict) else ""
    return initial


def overrides(campaign, cleaned: dict) -> dict:
    """The bindings that differ from the template's, from the form's values."""
    template = campaign.template
    chosen: dict = {}
    for field, (part, name, what) in variable_fields(template).items():
        chosen.setdefault(part, {}).setdefault(name, {})[what] = (cleaned.get(field) or "").strip()
    result: dict = {}
    for part, entries in chosen.items():
        for name, entry in entries.items():
            theirs = ((template.variables or {}).get(part) or {}).get(name) or {}
            if entry != {"source": theirs.get("source", ""), "default": theirs.get("default", "")}:
                result.setdefault(part, {})[name] = entry
    return result
