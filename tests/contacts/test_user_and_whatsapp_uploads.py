"""product.md File transfers 1, 3 and 4."""

import pytest
from django.utils import translation

from consent.models import Consent
from contacts.models import Contact, ContactList, FileTransferStatus, WhatsAppConsent
from tests.contacts.factories import ContactFactory
from tests.contacts.helpers import import_data_file, rejections

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The reasons are matched in English (they are written in the active language: see
    test_import_reasons_language for Turkish)."""
    with translation.override("en"):
        yield


def test_user_upload_creates_contacts_and_the_named_list():
    transfer = import_data_file("users", "users.csv", label="Spring promo")
    assert transfer.status == FileTransferStatus.DONE
    assert (transfer.read_count, transfer.created_count, transfer.rejected_count) == (6, 4, 2)
    reasons = rejections(transfer)
    assert "digits only" in reasons[5] and "expected 2 fields" in reasons[6]
    contact_list = ContactList.objects.get(name="Spring promo")
    assert transfer.contact_list == contact_list
    assert set(contact_list.contacts.values_list("phone", flat=True)) == {
        "+905331234562",
        "+905339876543",
        "+905339876544",
        "+905339876547",
    }
    assert Contact.objects.get(phone="+905339876544").external_id is None


def test_user_upload_matches_existing_contacts_and_reimport_is_unchanged():
    ContactFactory(external_id="user456", phone=None)
    first = import_data_file("users", "users.csv", label="Spring promo")
    assert (first.created_count, first.updated_count) == (3, 1)
    assert Contact.objects.get(external_id="user456").phone == "+905331234562"
    again = import_data_file("users", "users.csv", label="Spring promo")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 4)
    assert ContactList.objects.get(name="Spring promo").contacts.count() == 4


def test_user_upload_refuses_an_external_id_with_another_phone():
    ContactFactory(external_id="user456", phone="+905551112233")
    transfer = import_data_file("users", "users.csv")
    assert "another phone number (+905551112233)" in rejections(transfer)[2]


def test_email_upload_in_windows_1254_is_detected():
    transfer = import_data_file("email-iys", "email_iys_cp1254.txt")
    assert transfer.detected_encoding == "cp1254"
    assert (transfer.created_count, transfer.rejected_count) == (2, 2)
    reasons = rejections(transfer)
    assert "ayşe@örnek.com" in reasons[2] and "not a valid email" in reasons[4]
    assert Contact.objects.get(external_id="çağrı-1").email == "mixed.case@example.com"
    assert Consent.objects.get(recipient="mixed.case@example.com").type == "EPOSTA"


def test_wrong_encoding_choice_rejects_lines_not_the_file():
    transfer = import_data_file("email-iys", "email_iys_cp1254.txt", encoding="utf-8")
    reasons = rejections(transfer)
    assert "not valid UTF-8" in reasons[2] and "not valid UTF-8" in reasons[3]
    assert transfer.created_count == 1  # line 1 is plain ASCII and lands


def test_whatsapp_import_matching_and_rejections():
    existing = ContactFactory(
        external_id="user456", email="keep@example.com", phone="+905330000000", whatsapp_number=None
    )
    transfer = import_data_file("whatsapp", "whatsapp.csv")
    assert transfer.status == FileTransferStatus.DONE
    assert (transfer.read_count, transfer.created_count, transfer.updated_count, transfer.rejected_count) == (
        8,
        2,
        1,
        5,
    )
    existing.refresh_from_db()
    assert existing.whatsapp_number == "+905331234562" and existing.whatsapp_consent == WhatsAppConsent.OPT_IN
    assert (existing.email, existing.phone) == ("keep@example.com", "+905330000000")  # only WhatsApp changes
    assert "whatsapp.csv" in existing.whatsapp_consent_source and existing.whatsapp_consent_at
    new = Contact.objects.get(whatsapp_number="+905320000001")
    assert (new.email, new.phone) == ("new@example.com", "+905320000001")
    assert Contact.objects.get(whatsapp_number="+905320000002").whatsapp_consent == WhatsAppConsent.OPT_OUT
    reasons = rejections(transfer)
    assert "'3' is not 1 (opt-in) or 2 (opt-out)" in reasons[5]
    assert "country code" in reasons[6]
    assert "not a valid email" in reasons[7]
    assert "wpNumber is missing" in reasons[8]
    assert "expected 5 fields" in reasons[9]
    again = import_data_file("whatsapp", "whatsapp.csv")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)


def test_whatsapp_matching_order_is_exid_email_msisdn_wpnumber(tmp_path):
    by_exid = ContactFactory(external_id="x1", email="a@example.com", phone="+905330000001")
    by_email = ContactFactory(external_id="x2", email="b@example.com", phone="+905330000002")
    by_msisdn = ContactFactory(external_id="x3", email=None, phone="+905330000003")
    by_wp = ContactFactory(external_id="x4", email=None, phone=None, whatsapp_number="+905330000004")
    lines = [
        "exid;email;msisdn;wpNumber;permission",  # semicolons: Turkish Excel
        "x1;b@example.com;905330000003;905330000004;1",
        ";b@example.com;905330000003;905330000014;1",
        ";;905330000003;905330000024;1",
        ";;;905330000004;2",
    ]
    import_result = _import_text(tmp_path, "\n".join(lines))
    assert import_result.rejected_count == 0
    for contact, number in ((by_email, "+905330000014"), (by_msisdn, "+905330000024")):
        contact.refresh_from_db()
        assert contact.whatsapp_number == number
    by_exid.refresh_from_db()
    by_wp.refresh_from_db()
    # line 2 gave x1 the number 0004 (exid first); line 5 matches that number, now x1's
    assert Contact.objects.filter(whatsapp_number="+905330000004").count() == 1
    assert by_exid.whatsapp_number == "+905330000004" and by_exid.whatsapp_consent == WhatsAppConsent.OPT_OUT
    assert by_wp.whatsapp_number is None


def test_a_number_moves_to_the_contact_of_the_latest_file(tmp_path):
    first = ContactFactory(external_id="a", whatsapp_number="+905330000009")
    second = ContactFactory(external_id="b")
    result = _import_text(tmp_path, "exid,wpNumber,permission\nb,905330000009,1\n")
    assert result.updated_count == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.whatsapp_number is None and second.whatsapp_number == "+905330000009"


def test_a_whatsapp_file_without_its_header_fails_plainly(tmp_path):
    result = _import_text(tmp_path, ",,,905320000001,1\n")
    assert result.status == FileTransferStatus.FAILED and "header" in result.error


def _import_text(tmp_path, text, name="wa.csv"):
    from django.core.files import File

    from contacts.imports import file_transfer_create, file_transfer_run

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name=name, kind="whatsapp", upload=File(fh, name=name), enqueue=False)
    return file_transfer_run(transfer_id=transfer.pk)
