"""Generic contact import/export in the admin (django-import-export: preview, then confirm).
Files may have any columns: the known ones map to contact fields, the rest become profile
attributes. Phones are read as the test-SMS form reads them (national spellings too, contacts.phones),
emails by the File Transfers' parser. Consent and
subscription are not importable here: they change only through the consent ledger. A bad row's
reason is shown in the request that parses the file, so it is in the user's language."""

from __future__ import annotations

import json

from diff_match_patch import diff_match_patch
from django.utils.encoding import force_str
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from contacts.cells import safe_cell, unquoted
from contacts.models import Contact
from contacts.parsers import Rejection, parse_email
from contacts.phones import to_e164

KNOWN = {"external_id", "email", "phone", "whatsapp_number", "phone_status", "id"}
ALIASES = {
    "exid": "external_id",
    "externalid": "external_id",
    "msisdn": "phone",
    "mobile": "phone",
    "wpnumber": "whatsapp_number",
    "whatsapp": "whatsapp_number",
    "e-mail": "email",
}


class PhoneWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():  # a number cell from Excel
            text = text[:-2]
        if not text:
            return None
        # the spellings the test-SMS form takes: 05321234567, 0532 123 45 67, +90 532…, 90532…, 5321234567
        parsed = to_e164(text)
        if parsed is None:
            raise ValueError(
                _(
                    "the phone number '%(value)s' is not a valid phone number (write it as 0532 123 45 67 or "
                    "+90 532 123 45 67)"
                )
                % {"value": text[:40]}
            )
        return parsed


class EmailWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        value = str(value).strip() if value not in (None, "") else ""
        if not value:
            return None
        parsed = parse_email(value)
        if isinstance(parsed, Rejection):
            raise ValueError(parsed.reason)
        return parsed


class AttributesField(fields.Field):
    """Merges the row's extra columns (gathered by before_import) into the profile attributes."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        extra = json.loads(row.get(self.column_name) or "{}")
        if extra:
            instance.attributes = {**(instance.attributes or {}), **extra}


NUL_CELL = gettext_lazy("the cell contains a NUL character (byte 0), which cannot be stored: remove it")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class StyleFreeDiff(resources.Diff):
    """The preview's changed cells as <ins>/<del> without style attributes, which the
    Content-Security-Policy blocks (django-import-export's own diff writes style="background:…")."""

    TAGS = {diff_match_patch.DIFF_INSERT: "ins", diff_match_patch.DIFF_DELETE: "del"}

    def as_html(self):
        dmp, cells = diff_match_patch(), []
        for left, right in zip(self.left, self.right, strict=False):
            if left != right and self.new:
                left = ""
            diff = dmp.diff_main(force_str(left), force_str(right))
            dmp.diff_cleanupSemantic(diff)
            parts = []
            for op, text in diff:
                tag = self.TAGS.get(op)
                text = escape(text)
                parts.append(f"<{tag}>{text}</{tag}>" if tag else f"<span>{text}</span>")
            cells.append(mark_safe("".join(parts)))  # noqa: S308 (every text part is escaped)
        return cells


def _column(name: str) -> str:
    key = str(name).strip().lower()
    return ALIASES.get(key, key)


class ContactImportResource(resources.ModelResource):
    phone = fields.Field(attribute="phone", column_name="phone", widget=PhoneWidget())
    whatsapp_number = fields.Field(attribute="whatsapp_number", column_name="whatsapp_number", widget=PhoneWidget())
    email = fields.Field(attribute="email", column_name="email", widget=EmailWidget())
    attributes = AttributesField(attribute="attributes", column_name="attributes")

    class Meta:
        model = Contact
        fields = ("external_id", "email", "phone", "whatsapp_number", "phone_status", "attributes")
        import_id_fields = ("external_id",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_diff_class(self):
        return StyleFreeDiff

    def before_import(self, dataset, **kwargs):
        dataset.headers = [_column(h) for h in dataset.headers]
        for i, row in enumerate(list(dataset)):  # the quotes an export put before formulas come off
            dataset[i] = [unquoted(cell) for cell in row]
        extra = [h for h in dataset.headers if h not in KNOWN and h != "attributes"]
        gathered = [
            json.dumps(
                {h: str(row[i]) for i, h in enumerate(dataset.headers) if h in extra and row[i] not in (None, "")},
                ensure_ascii=False,
            )
            for row in dataset
        ]
        for name in extra:
            del dataset[name]
        if "attributes" not in dataset.headers:
            dataset.append_col(gathered, header="attributes")
        if "external_id" not in dataset.headers:  # a file of phones (and names): matched by phone
            dataset.append_col([None] * len(dataset), header="external_id")

    def get_instance(self, instance_loader, row):
        """Match by external id, else by phone (the first contact with it)."""
        external_id = str(row.get("external_id") or "").strip()
        if _has_nul(external_id):
            return None  # cannot be looked up (nor stored): validate_instance refuses the row
        if external_id:
            return Contact.objects.filter(external_id=external_id).first()
        phone = row.get("phone")
        if phone:
            parsed = to_e164(str(phone).strip())
            if parsed:
                return Contact.objects.filter(phone=parsed).order_by("pk").first()
        return None

    def before_import_row(self, row, **kwargs):
        if "external_id" in row and not str(row["external_id"] or "").strip():
            row["external_id"] = None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """A NUL character cannot be stored (PostgreSQL refuses it): the row is invalid, in words,
        and the other rows still import."""
        errors = dict(import_validation_errors or {})
        for name in ("external_id", "phone_status", "attributes"):
            if name not in errors and _has_nul(getattr(instance, name)):
                errors[name] = [NUL_CELL]
        super().validate_instance(instance, errors, validate_unique)


class ContactExportResource(resources.ModelResource):
    """Every exported cell goes through contacts.cells.safe_cell (CSV and XLSX alike)."""

    def export_field(self, field, instance, **kwargs):
        return safe_cell(super().export_field(field, instance, **kwargs))

    class Meta:
        model = Contact
        fields = (
            "external_id",
            "email",
            "phone",
            "whatsapp_number",
            "phone_status",
            "sms_subscription",
            "whatsapp_consent",
            "whatsapp_consent_at",
            "attributes",
            "created_at",
            "updated_at",
        )
        export_order = fields
