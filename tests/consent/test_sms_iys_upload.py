"""product.md File transfers 2: SMS upload for İYS, with every defect real files contain."""

import pytest
from django.core.management import call_command
from django.utils import translation

from consent.models import Consent, ConsentChange
from contacts.models import Contact, FileTransferStatus, SmsSubscription
from tests.contacts.helpers import import_data_file, rejections

pytestmark = pytest.mark.django_db


def test_sms_iys_upload_accepts_good_lines_and_rejects_each_defect_with_a_reason():
    with translation.override("en"):  # the reasons are written in the active language
        transfer = import_data_file("sms-iys", "sms_iys_mixed.txt")
    assert transfer.status == FileTransferStatus.DONE
    assert transfer.read_count == 20  # 21 lines, one blank
    assert (transfer.created_count, transfer.updated_count, transfer.unchanged_count) == (5, 0, 0)
    assert transfer.rejected_count == 15
    reasons = rejections(transfer)
    assert "capitals: ONAY" in reasons[5]
    assert "dd.MM.yyyy HH:mm:ss" in reasons[6]
    assert "31.02.2025" in reasons[7] and "does not exist" in reasons[7]
    assert "in the future" in reasons[8]
    assert "without '+'" in reasons[9]
    for line in (10, 11, 12):
        assert "digits only" in reasons[line]
    assert "not a valid international number" in reasons[13]
    assert "expected 4 or 5 fields" in reasons[14]
    assert "platform" in reasons[15] and "missing" in reasons[15]
    assert "permission is missing" in reasons[16]
    assert "timestamp is missing" in reasons[17]
    assert "not ONAY or RET" in reasons[18]
    assert "before 01.05.2015" in reasons[19]
    assert set(reasons) == set(range(5, 20))


def test_accepted_lines_land_as_consents_linked_to_contacts():
    import_data_file("sms-iys", "sms_iys_mixed.txt")
    ret = Consent.objects.get(recipient="+905331234562", type="MESAJ")
    assert ret.status == "RET" and ret.source == "HS_MESAJ" and ret.contact.external_id == "user456"
    assert Consent.objects.get(recipient="+905331234564").source == "HS_MOBIL"
    assert Consent.objects.get(recipient="+905331234580").source == "HS_2015"
    assert Consent.objects.get(recipient="+447911123456").status == "ONAY"
    history = ConsentChange.objects.get(recipient="+905331234562")
    assert history.origin == "upload" and "sms_iys_mixed.txt" in history.origin_ref and history.file_transfer_id


def test_a_mesaj_consent_sets_the_sms_subscription():
    import_data_file("sms-iys", "sms_iys_mixed.txt")
    assert Contact.objects.get(phone="+905331234562").sms_subscription == SmsSubscription.NOT_SUBSCRIBED
    assert Contact.objects.get(phone="+905331234563").sms_subscription == SmsSubscription.SUBSCRIBED


def test_reimporting_the_same_file_changes_nothing():
    import_data_file("sms-iys", "sms_iys_mixed.txt")
    before = (Consent.objects.count(), ConsentChange.objects.count(), Contact.objects.count())
    again = import_data_file("sms-iys", "sms_iys_mixed.txt", label="again")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 5)
    assert (Consent.objects.count(), ConsentChange.objects.count(), Contact.objects.count()) == before


def test_utf8_bom_csv_is_read():
    transfer = import_data_file("sms-iys", "sms_iys_bom.csv")
    assert transfer.detected_encoding == "utf-8" and transfer.rejected_count == 0 and transfer.created_count == 2
    assert Contact.objects.get(external_id="bom-user").phone == "+905551112233"


def test_a_file_with_no_valid_line_fails_with_a_clear_message():
    with translation.override("en"):  # the failure is worded in the active language
        transfer = import_data_file("sms-iys", "all_bad_sms.txt")
    assert transfer.status == FileTransferStatus.FAILED
    assert "no valid line" in transfer.error and transfer.rejected_count == 2


@translation.override("en")  # the reasons, the report's header and the failures are in the active language
def test_import_file_command_prints_json_and_fails_on_refused_files(capsys):
    from tests.contacts.helpers import DATA

    call_command("import_file", "sms-iys", str(DATA / "sms_iys_mixed.txt"), "--json")
    import json

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("read", "created", "updated", "unchanged", "rejected")} == {
        "read": 20,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 15,
    }
    with open(summary["report"], encoding="utf-8-sig") as fh:
        report = fh.read()
    assert report.startswith("line,raw line,reason") and "31.02.2025" in report
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"only \.txt and \.csv"):
        call_command("import_file", "users", str(DATA / "contacts.xlsx"))
    with pytest.raises(CommandError, match="no valid line"):
        call_command("import_file", "sms-iys", str(DATA / "all_bad_sms.txt"))
