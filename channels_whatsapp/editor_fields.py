"""The template editor's generated fields (issue 13): per variable an example, a source and a
default; per call-to-action button its kind, label, link or number. They live on a base form, so a
ModelAdmin's fieldsets may name them like any declared field."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, pgettext_lazy

from channels_whatsapp.editor_components import BODY_VARIABLES, CTA_SLOTS
from channels_whatsapp.template_checks import CONTACT_FIELDS
from providers.whatsapp.templates import BUTTON_LABEL_MAX, URL_MAX

VALUE_MAX = 1024  # an example or a default: no longer than a whole body


class SourceInput(forms.TextInput):
    """A text input that suggests the contact fields; any other name is a profile attribute."""

    def render(self, name, value, attrs=None, renderer=None):
        options_id = f"{(attrs or {}).get('id') or name}_options"
        attrs = {**(attrs or {}), "list": options_id}
        options = format_html_join("", '<option value="{}"></option>', ((f,) for f in CONTACT_FIELDS))
        return format_html(
            '{}<datalist id="{}">{}</datalist>', super().render(name, value, attrs, renderer), options_id, options
        )


def text_input(limit: int, **attrs) -> forms.TextInput:
    """A text input whose character counter (the editor's script) shows `limit`."""
    return forms.TextInput(attrs={"data-wa-limit": limit, "class": "vTextField", **attrs})


def _variable_fields(slot: str) -> dict[str, forms.Field]:
    """Example, source and default of one variable; shown by the script when the variable is used."""
    variable = "{{" + (slot.removeprefix("body_") if slot.startswith("body_") else "1") + "}}"
    return {
        f"{slot}_example": forms.CharField(
            label=format_lazy(gettext_lazy("Example for {variable}"), variable=variable),
            required=False,
            max_length=VALUE_MAX,
        ),
        f"{slot}_source": forms.CharField(
            label=gettext_lazy("Value from"),
            required=False,
            max_length=100,
            widget=SourceInput(attrs={"placeholder": gettext_lazy("e.g. name")}),
        ),
        f"{slot}_default": forms.CharField(
            label=gettext_lazy("Default"),
            required=False,
            max_length=VALUE_MAX,
            widget=forms.TextInput(attrs={"placeholder": gettext_lazy("if the contact has none")}),
        ),
    }


def _button_fields(slot: str, number: int) -> dict[str, forms.Field]:
    kinds = [
        ("", gettext_lazy("None")),
        ("url", gettext_lazy("Visit website")),
        ("phone", pgettext_lazy("a button that calls a phone number", "Call")),
    ]
    return {
        f"{slot}_type": forms.ChoiceField(
            label=format_lazy(gettext_lazy("Button {number}"), number=number), choices=kinds, required=False
        ),
        f"{slot}_text": forms.CharField(
            label=gettext_lazy("Button label"), required=False, widget=text_input(BUTTON_LABEL_MAX)
        ),
        f"{slot}_url": forms.CharField(
            label=gettext_lazy("Web address"),
            required=False,
            widget=text_input(URL_MAX),
            help_text=gettext_lazy("One variable {{1}} may end it, e.g. https://example.com/order/{{1}}."),
        ),
        f"{slot}_phone": forms.CharField(
            label=gettext_lazy("Phone number"),
            required=False,
            widget=text_input(20, placeholder="+908501234567"),
            help_text=gettext_lazy("International form: + and the country code."),
        ),
        **_variable_fields(slot),
    }


def _declared_variable_fields() -> dict[str, forms.Field]:
    fields = _variable_fields("header")
    for n in range(1, BODY_VARIABLES + 1):
        fields.update(_variable_fields(f"body_{n}"))
    for number, slot in enumerate(CTA_SLOTS, start=1):
        fields.update(_button_fields(slot, number))
    return fields


VariableFields = type("VariableFields", (forms.Form,), _declared_variable_fields())
