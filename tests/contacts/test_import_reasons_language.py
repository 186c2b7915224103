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


# --- İYS uploads, refused lines, whole-file failures and the report's header ---------------------
IYS_TURKISH = {
    5: "izin 'onay' büyük harflerle yazılmalı: ONAY",
    6: "zaman damgası '2025-05-15 14:23:00' dd.MM.yyyy HH:mm:ss biçiminde değil (örneğin 15.05.2025 14:23:00)",
    7: "31.02.2025 14:23:00 diye bir tarih yok",
    8: "15.05.2099 14:23:00 tarihi gelecekte",
    14: "';' ile ayrılmış 4 ya da 5 alan (alıcı; platform; izin; zaman damgası; externalId) bekleniyordu, 6 alan "
    "bulundu",
    15: "platform (iznin alındığı yer) eksik",
    16: "izin eksik (ONAY ya da RET)",
    17: "zaman damgası eksik (izinden sonra dd.MM.yyyy HH:mm:ss)",
    18: "izin 'EVET' ONAY ya da RET değil",
    19: "15.05.2014 10:00:00 tarihi 01.05.2015'ten önce; İYS'den önceki izinler HS_2015 platformuyla ve "
    "01.05.2015 00:00:00 tarihiyle yazılır",
}
IYS_ENGLISH = {
    5: "the permission 'onay' must be written in capitals: ONAY",
    6: "the timestamp '2025-05-15 14:23:00' is not in the form dd.MM.yyyy HH:mm:ss (e.g. 15.05.2025 14:23:00)",
    7: "the date 31.02.2025 14:23:00 does not exist",
    8: "the date 15.05.2099 14:23:00 is in the future",
    14: "expected 4 or 5 fields separated by ';' (recipient; platform; permission; timestamp; externalId), found 6",
    15: "the platform (where the consent was acquired) is missing",
    16: "the permission is missing (ONAY or RET)",
    17: "the timestamp is missing (dd.MM.yyyy HH:mm:ss after the permission)",
    18: "the permission 'EVET' is not ONAY or RET",
    19: "the date 15.05.2014 10:00:00 is before 01.05.2015; consents from before İYS use the HS_2015 platform "
    "with the date 01.05.2015 00:00:00",
}


@pytest.mark.parametrize("language, expected", [("tr", IYS_TURKISH), ("en", IYS_ENGLISH)])
def test_an_iys_upload_lines_reasons_are_in_the_active_language(language, expected):
    with translation.override(language):
        transfer = import_data_file("sms-iys", "sms_iys_mixed.txt")
    reasons = rejections(transfer)
    assert {n: reasons[n] for n in expected} == expected
    assert set(reasons) == set(range(5, 20))  # every bad line has its reason, in that language too


@pytest.mark.parametrize("language, header", [("tr", "satır,ham satır,neden"), ("en", "line,raw line,reason")])
def test_the_reports_header_is_in_the_language_it_is_written_in(language, header):
    with translation.override(language):
        transfer = import_data_file("sms-iys", "sms_iys_mixed.txt")
        rows = "".join(rejected_report_rows(transfer)).lstrip("\ufeff").splitlines()
    assert rows[0] == header and len(rows) == 1 + transfer.rejected_count


def _upload(body: bytes, name: str = "f.txt", kind: str = "sms-iys", encoding: str = "auto") -> FileTransfer:
    return file_transfer_create(
        name=name,
        kind=kind,
        upload=SimpleUploadedFile(name, body, content_type="text/plain"),
        encoding=encoding,
        enqueue=False,
    )


GOOD = "905331234562; SMS; ONAY; 15.05.2025 14:23:00; u1\n"


def test_the_worker_writes_refused_lines_and_failures_in_the_panels_language(settings):
    """Lines refused before parsing (NUL, not in the encoding, too long) and a whole-file failure,
    written by the worker (no request) in settings.LANGUAGE_CODE."""
    settings.FILE_TRANSFER_MAX_LINE_BYTES = 100
    utf8 = "".join(f"90533123457{i}; SMS; ONAY; 15.05.2025 14:23:00; Çağrı-{i}\n" for i in (1, 2))
    body = (utf8 + "90533\x001234563; SMS; ONAY; 15.05.2025 14:23:00\n" + "9" * 150 + "\n").encode()
    body += "905331234564; SMS; ONAY; 15.05.2025 14:23:00; Şükrü\n".encode("cp1254")
    transfer = _upload(body)
    with translation.override("en"):  # whatever was active before: the worker has no request
        process_file_transfer(transfer.pk)
    reasons = rejections(transfer)
    assert reasons[3].startswith("satırda saklanamayan bir NUL karakteri (0 baytı) var: silin")
    assert reasons[4] == "satır 151 bayt uzunluğunda; 100 bayttan uzun satırlar okunmaz (satırın geri kalanı atlandı)"
    assert reasons[5] == "satır geçerli UTF-8 değil (dosyanın geri kalanı öyle): dosyayı tek bir kodlamayla kaydedin"

    all_bad = _upload(b"hello world\nfoo;bar\n")
    with translation.override("en"):
        process_file_transfer(all_bad.pk)
    all_bad.refresh_from_db()
    assert all_bad.error == "geçerli satır yok: 2 satırın tümü reddedildi; rapora bakın"

    no_header = _upload(b"\x00\n", name="w.csv", kind="whatsapp")
    process_file_transfer(no_header.pk)
    no_header.refresh_from_db()
    assert no_header.error.startswith(
        "başlık satırı (exid, email, msisdn, wpNumber, permission) eksik: hiçbir satır okunamadı (satır 1: "
        "satırda saklanamayan bir NUL karakteri"
    )


def test_refused_lines_and_failures_are_english_under_english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.FILE_TRANSFER_MAX_LINE_BYTES = 100
    transfer = _upload((GOOD + "9" * 1500 + "\n").encode())
    process_file_transfer(transfer.pk)
    assert rejections(transfer)[2] == (
        "the line is 1,501 bytes long; lines longer than 100 bytes are not read (the rest of it was skipped)"
    )
    empty = _upload(b"\n\n", name="w.csv", kind="whatsapp")
    process_file_transfer(empty.pk)
    empty.refresh_from_db()
    assert empty.error == "the file is empty: the header row (exid, email, msisdn, wpNumber, permission) is missing"


def test_a_byte_count_is_grouped_the_way_the_language_writes_numbers(settings):
    settings.FILE_TRANSFER_MAX_LINE_BYTES = 1000
    transfer = _upload((GOOD + "9" * 1500 + "\n").encode())
    process_file_transfer(transfer.pk)
    assert rejections(transfer)[2].startswith("satır 1.501 bayt uzunluğunda; 1.000 bayttan uzun satırlar okunmaz")


def test_the_upload_forms_refusals_are_in_the_users_language(client, marketer, settings):
    settings.FILE_TRANSFER_MAX_UPLOAD_BYTES = 1000
    client.force_login(marketer)

    def refused(name: str, body: bytes, language: str) -> str:
        response = client.post(
            reverse("admin:contacts_filetransfer_add"),
            {"name": "x", "kind": "sms-iys", "encoding": "auto", "file": SimpleUploadedFile(name, body)},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 200
        return html.unescape(response.content.decode())

    assert "'f.xlsx' içe aktarılamaz: yalnızca .txt ve .csv dosyaları kabul edilir (bu dosya .xlsx)" in refused(
        "f.xlsx", b"x", "tr"
    )
    assert "'f.xlsx' cannot be imported: only .txt and .csv files are accepted (this one is .xlsx)" in refused(
        "f.xlsx", b"x", "en"
    )
    assert "dosya 2,0 KB; en çok 1.000 bayt büyüklüğündeki dosyalar yüklenebilir" in refused("f.txt", b"9" * 2048, "tr")
    assert "the file is 2.0 KB; files of at most 1,000 bytes can be uploaded" in refused("f.txt", b"9" * 2048, "en")
    assert not FileTransfer.objects.exists()


# --- the ledger's refusals: in the panel in the user's language ----------------------------------
def test_the_ledgers_refusal_is_in_the_users_language_on_the_contacts_consent_page(client, marketer):
    from datetime import timedelta

    from django.utils import timezone

    from tests.contacts.factories import ContactFactory

    contact = ContactFactory(phone="+905331230002")
    client.force_login(marketer)
    url = reverse("admin:consent_subscription_change", args=[contact.pk])
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    data = {"subscribed": "0", "source": "HS_WEB", "consent_date": future, "recipient_type": "BIREYSEL"}
    for language, words in [("tr", "izin tarihi gelecekte"), ("en", "the consent date is in the future")]:
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert response.context["form"].errors["__all__"] == [words]
    data = {**data, "source": "HS_2015", "consent_date": "2025-01-02 10:00"}
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="tr")
    assert response.context["form"].errors["__all__"] == [
        "HS_2015 platformlu bir iznin tarihi 01.05.2015 00:00:00 olmalı"
    ]


def test_the_ledgers_refusal_of_a_change_is_worded_in_the_active_language():
    from datetime import timedelta

    from django.utils import timezone

    from consent.models import ChangeOrigin
    from consent.services import ConsentInput, consent_apply

    change = ConsentInput(
        recipient="a@example.com",
        type="MESAJ",
        status="ONAY",
        consent_date=timezone.now() - timedelta(days=1),
        source="HS_WEB",
    )
    with translation.override("tr"):
        [turkish] = consent_apply(changes=[change], origin=ChangeOrigin.UPLOAD)
    with translation.override("en"):
        [english] = consent_apply(changes=[change], origin=ChangeOrigin.UPLOAD)
    assert turkish.reason == "MESAJ izin türü a@example.com alıcısına uymuyor"
    assert english.reason == "consent type MESAJ does not fit the recipient a@example.com"
