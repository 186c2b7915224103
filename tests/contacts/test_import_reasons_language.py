"""A bad line's reason reaches the user in their language (the panel is Turkish by default): a File
Transfer's reasons are written in the active language when the lines are parsed, in the worker in
settings.LANGUAGE_CODE; the contact import's in the language of the request."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from contacts.imports import file_transfer_create
from contacts.models import FileTransfer
from contacts.reports import rejected_report_rows
from contacts.tasks import process_file_transfer
from tests.contacts.helpers import DATA, import_data_file, rejections

pytestmark = pytest.mark.django_db

TURKISH = {
    5: "token (telefon numarası) '0533 987 65 45' yalnızca rakamlardan oluşmalı (boşluk, tire veya harf olmadan) "
    "ve ülke koduyla başlamalı",
    6: "',' ile ayrılmış 2 alan (token, externalId) bekleniyordu, 3 alan bulundu",
}
ENGLISH = {
    5: "the token (phone number) '0533 987 65 45' must be digits only (no spaces, dashes or letters), starting "
    "with the country code",
    6: "expected 2 fields (token, externalId) separated by ',', found 3",
}


def test_a_bad_rows_reason_is_turkish_under_turkish_in_the_panel_and_the_report():
    with translation.override("tr"):
        transfer = import_data_file("users", "users.csv")
    assert rejections(transfer) == TURKISH
    report = "".join(rejected_report_rows(transfer))
    assert TURKISH[5] in report and TURKISH[6] in report


def test_a_bad_rows_reason_is_english_under_english():
    with translation.override("en"):
        transfer = import_data_file("users", "users.csv")
    assert rejections(transfer) == ENGLISH


def _queued() -> FileTransfer:
    with open(DATA / "whatsapp.csv", "rb") as fh:
        upload = SimpleUploadedFile("whatsapp.csv", fh.read(), content_type="text/csv")
    return file_transfer_create(name="wa", kind="whatsapp", upload=upload, enqueue=False)


def test_the_worker_writes_the_reasons_in_the_panels_default_language(settings):
    assert settings.LANGUAGE_CODE == "tr"
    transfer = _queued()
    with translation.override("en"):  # whatever was active before: the worker has no request
        process_file_transfer(transfer.pk)
    reasons = rejections(transfer)
    assert reasons[5] == "permission (izin) '3' 1 (izin verdi) ya da 2 (izni geri aldı) değil"
    assert reasons[8] == "wpNumber eksik"
    assert reasons[9] == "',' ile ayrılmış 5 alan bekleniyordu, 4 alan bulundu"


def test_the_worker_follows_the_language_code_setting(settings):
    settings.LANGUAGE_CODE = "en"
    transfer = _queued()
    with translation.override("tr"):
        process_file_transfer(transfer.pk)
    assert rejections(transfer)[8] == "the wpNumber is missing"


def _preview(client, language: str) -> str:
    upload = SimpleUploadedFile("contacts_mixed.csv", (DATA / "contacts_mixed.csv").read_bytes(), "text/csv")
    response = client.post(
        reverse("admin:contacts_contact_import"),
        {"resource": "0", "format": "0", "import_file": upload},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", response.content.decode())))


def test_the_contact_imports_bad_rows_are_listed_in_the_users_language(client, marketer):
    client.force_login(marketer)
    turkish = _preview(client, "tr")
    assert (
        "“phone” sütunu: '0532 12' geçerli bir telefon numarası değil (0532 123 45 67 ya da +90 532 123 45 67 "
        "biçiminde yazın)" in turkish
    )
    assert "“email” sütunu: 'not-an-email' geçerli bir e-posta adresi değil" in turkish
    english = _preview(client, "en")
    assert "column “phone”: the phone number '0532 12' is not a valid phone number" in english
    assert "column “email”: 'not-an-email' is not a valid email address" in english
