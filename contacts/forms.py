import json
import math

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contacts.imports import check_extension, check_size
from contacts.models import Contact, ContactList, FileEncoding, FileTransfer


class FileTransferForm(forms.ModelForm):
    class Meta:
        model = FileTransfer
        fields = ["name", "kind", "file", "encoding"]
        help_texts = {
            "name": _("Shown in the File Transfers list; a User upload saves its contacts as a list of this name."),
            "file": _(
                ".txt or .csv. Formats: User upload 'token, externalId'; İYS uploads "
                "'recipient; platform; ONAY|RET; dd.MM.yyyy HH:mm:ss; externalId'; WhatsApp import with the "
                "header 'exid, email, msisdn, wpNumber, permission'."
            ),
        }

    encoding = forms.ChoiceField(choices=FileEncoding.choices, initial=FileEncoding.AUTO, label=_("Encoding"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_extension(upload.name)
            check_size(upload.size or 0)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc
        return upload


# --- profile attributes as rows of name and value (the contact's page) ------------------------
ATTRIBUTE_NAME_MAX = 100


def _shown(value) -> str:
    """An attribute's value as its input shows it: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class AttributesWidget(forms.Widget):
    """Rows of name and value inputs, with buttons to add and remove rows (static/contacts/attributes.js)."""

    template_name = "contacts/widgets/attributes.html"

    class Media:
        js = ["contacts/attributes.js"]
        css = {"all": ["contacts/contacts.css"]}

    def format_value(self, value):
        if isinstance(value, str):  # JSON from the model field, or from the initial data
            try:
                value = json.loads(value)
            except ValueError:
                return [("", value)]
        if isinstance(value, dict):
            return [(str(name), _shown(v)) for name, v in value.items()]
        return list(value or [])

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["rows"] = self.format_value(value)
        return context

    def value_from_datadict(self, data, files, name):
        names, values = data.getlist(f"{name}-name"), data.getlist(f"{name}-value")
        if not names and not values and name in data:  # a form posting the JSON text (API-like clients)
            return data[name]
        return list(zip(names, values, strict=False))

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-name" not in data and name not in data


class AttributesField(forms.Field):
    """The rows back into the JSON object: names non-empty, unique and at most 100 characters; a
    value stays text, except that one which was a number (or anything but text) and still reads as
    one keeps its type. Empty rows are dropped."""

    widget = AttributesWidget

    def __init__(self, *, original=None, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.original = original or {}

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            try:
                parsed = json.loads(value or "{}")
            except ValueError as exc:
                raise ValidationError(_("The profile attributes are not valid JSON.")) from exc
            if not isinstance(parsed, dict):
                raise ValidationError(_("The profile attributes must be names with values."))
            return parsed
        result, problems = {}, []
        for number, (name, text) in enumerate(value or [], start=1):
            name, text = name.strip(), text.strip()
            if not name and not text:
                continue
            if not name:
                problems.append(_("Row %(row)d: the name is missing.") % {"row": number})
            elif len(name) > ATTRIBUTE_NAME_MAX:
                problems.append(
                    _("Row %(row)d: the name is longer than %(max)d characters.")
                    % {"row": number, "max": ATTRIBUTE_NAME_MAX}
                )
            elif name in result:
                problems.append(_("Row %(row)d: the name “%(name)s” is used twice.") % {"row": number, "name": name})
            else:
                result[name] = self._typed(name, text)
        if problems:
            raise ValidationError(problems)
        return result

    def _typed(self, name: str, text: str):
        if name not in self.original:
            return text
        before = self.original[name]
        if _shown(before) == text:
            return before  # unchanged: whatever it was (a number, a list, true) it stays
        if isinstance(before, (int, float)) and not isinstance(before, bool):
            number = _number(text)
            if number is not None:
                return number
        return text

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or {})
        except ValidationError:
            return True


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["external_id", "email", "phone", "whatsapp_number", "phone_status", "attributes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "attributes" in self.fields:
            old = self.fields["attributes"]
            original = self.instance.attributes if isinstance(self.instance.attributes, dict) else {}
            self.fields["attributes"] = AttributesField(original=original, label=old.label, help_text=old.help_text)


# --- the contacts list's "Add to list…" / "Remove from list…" -------------------------------
class ContactListChoiceForm(forms.Form):
    contact_list = forms.ModelChoiceField(
        label=_("List"), queryset=ContactList.objects.order_by("name"), empty_label=None
    )
