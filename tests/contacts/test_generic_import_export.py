"""Generic contact import/export (django-import-export) with arbitrary columns."""

import io

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from contacts.models import Contact
from contacts.resources import ContactExportResource, ContactImportResource
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

CSV = "exid,phone,email,name,city\nu1,905331234562,A@Example.com,Ayşe,İzmir\nu2,+90 533,b@example.com,Can,Bursa\n"


def test_known_columns_validate_and_the_rest_become_attributes():
    dataset = tablib.Dataset().load(CSV, format="csv")
    with translation.override("en"):  # a row's reasons are in the active language
        preview = ContactImportResource().import_data(dataset, dry_run=True)
    assert preview.has_validation_errors()
    invalid = preview.invalid_rows[0]
    assert "phone" in invalid.field_specific_errors
    assert "is not a valid phone number" in str(invalid.field_specific_errors["phone"])
    assert not Contact.objects.exists()  # the preview writes nothing
    ok = tablib.Dataset().load(CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n", format="csv")
    result = ContactImportResource().import_data(ok, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    contact = Contact.objects.get(external_id="u1")
    assert (contact.phone, contact.email) == ("+905331234562", "a@example.com")
    assert contact.attributes == {"name": "Ayşe", "city": "İzmir"}
    again = ContactImportResource().import_data(ok, dry_run=False)
    assert again.totals["skip"] == 1 and Contact.objects.count() == 1


def test_xlsx_with_numeric_phone_cells():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["external_id", "phone", "segment"])
    sheet.append(["x1", 905331234562, "gold"])
    buffer = io.BytesIO()
    book.save(buffer)
    dataset = tablib.Dataset().load(buffer.getvalue(), format="xlsx")
    result = ContactImportResource().import_data(dataset, dry_run=False)
    assert not result.has_validation_errors(), result.invalid_rows
    contact = Contact.objects.get(external_id="x1")
    assert contact.phone == "+905331234562" and contact.attributes == {"segment": "gold"}


def test_subscription_cannot_be_imported_around_the_ledger():
    ContactFactory(external_id="u9", phone="+905331234562")
    dataset = tablib.Dataset().load("external_id,sms_subscription\nu9,subscribed\n", format="csv")
    ContactImportResource().import_data(dataset, dry_run=False)
    contact = Contact.objects.get(external_id="u9")
    assert contact.sms_subscription == "none" and contact.attributes["sms_subscription"] == "subscribed"


def test_export_has_the_contact_fields():
    ContactFactory(external_id="e1", phone="+905331234562")
    exported = ContactExportResource().export().csv
    assert exported.splitlines()[0].startswith("external_id,email,phone,whatsapp_number,phone_status")
    assert "e1" in exported and "+905331234562" in exported


def test_admin_import_preview_then_confirm(client, marketer):
    client.force_login(marketer)
    url = reverse("admin:contacts_contact_import")
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("c.csv", b"external_id,phone,name\nq1,905331234562,Elif\n", content_type="text/csv")
    preview = client.post(url, {"resource": "0", "format": "0", "import_file": upload})
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is not None, preview.context["form"].errors
    assert not Contact.objects.exists()
    form = preview.context["confirm_form"]
    confirm = client.post(reverse("admin:contacts_contact_process_import"), form.initial)
    assert confirm.status_code == 302
    assert Contact.objects.get(external_id="q1").attributes == {"name": "Elif"}


def test_a_nul_in_a_cell_makes_its_row_invalid_and_the_others_import():
    csv = "exid,phone,name\nu1,905331234562,Ay\x00şe\nu\x002,905331234563,Can\nu3,905331234564,Cem\n"
    dataset = tablib.Dataset().load(csv, format="csv")
    with translation.override("en"):  # a row's reasons are in the active language
        result = ContactImportResource().import_data(dataset, dry_run=True)
        reasons = {str(row.error_dict) for row in result.invalid_rows}
    assert not result.has_errors()
    assert len(result.invalid_rows) == 2 and all("NUL character" in r for r in reasons)
    result = ContactImportResource().import_data(dataset, dry_run=False, collect_failed_rows=True)
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["u3"]
