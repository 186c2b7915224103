"""What bad input gets (product.md): NUL bytes, over-long lines, giant uploads, mixed encodings,
repeated lines, hostile spreadsheet cells and bad ids are handled, never a crash or a stuck job."""

import csv
import io
import logging
import os
import tracemalloc

import openpyxl
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DataError
from django.urls import reverse
from django.utils import translation

from consent.models import Consent, ConsentChange
from contacts import imports
from contacts.imports import file_transfer_create, file_transfer_run, file_transfers_resume_stalled
from contacts.models import Contact, FileTransfer, FileTransferStatus, RejectedLine
from contacts.reports import rejected_report_rows
from contacts.transfers import Records
from tests.contacts.factories import ContactFactory
from tests.contacts.helpers import rejections
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

SMS = "90533123456{}; SMS; ONAY; 15.05.2025 14:23:00; u{}"


@pytest.fixture(autouse=True)
def english():
    """The reasons and failures are matched in English (they are written in the active language:
    see test_import_reasons_language for Turkish)."""
    with translation.override("en"):
        yield


def run(body: bytes, kind: str = "sms-iys", encoding: str = "auto", name: str = "f.txt"):
    transfer = file_transfer_create(
        name=name, kind=kind, upload=File(io.BytesIO(body), name=name), encoding=encoding, enqueue=False
    )
    return file_transfer_run(transfer_id=transfer.pk)


def counts(transfer):
    return {k: getattr(transfer, f"{k}_count") for k in ("read", "created", "updated", "unchanged", "rejected")}


# --- item 4: NUL bytes, and batches a retry cannot cure ------------------------------------------
@pytest.mark.parametrize(
    ("kind", "lines"),
    [
        ("sms-iys", [SMS.format(1, 1), SMS.format(2, "2\x00x"), "\x00garbage; ;", SMS.format(3, 3)]),
        ("users", ["905331234561,u1", "905331234562,u\x002", "\x00", "905331234563,u3"]),
        (
            "email-iys",
            ["a@example.com; web; ONAY; 15.05.2025 14:23:00", "b@exa\x00mple.com; web; ONAY; 15.05.2025 14:23:00"],
        ),
        ("whatsapp", ["exid,email,msisdn,wpNumber,permission", "u1,,,905331234561,1", "u\x002,,,905331234562,1"]),
    ],
)
def test_a_nul_byte_rejects_its_line_with_a_reason_and_the_rest_lands(kind, lines):
    transfer = run(("\n".join(lines) + "\n").encode(), kind=kind)
    assert transfer.status == FileTransferStatus.DONE, transfer.error
    nul_lines = [n for n, line in enumerate(lines, start=1) if "\x00" in line]
    reasons = rejections(transfer)
    assert sorted(reasons) == nul_lines
    assert all("NUL character" in reasons[n] for n in nul_lines)
    assert not any("\x00" in raw for raw in RejectedLine.objects.values_list("raw", flat=True))
    assert transfer.created_count == len(lines) - len(nul_lines) - (kind == "whatsapp")
    assert not any("\x00" in (exid or "") for exid in Contact.objects.values_list("external_id", flat=True))


def test_a_batch_the_database_refuses_fails_the_transfer_with_its_reason(monkeypatch):
    """A DataError is not cured by a retry: the transfer is failed with the lines and the reason,
    the batches before it stay imported, and the reaper does not pick it up again."""
    from consent.imports import SmsIysUpload

    monkeypatch.setattr(imports, "BATCH_LINES", 2)
    original = SmsIysUpload.apply

    def apply(self, records, prepared=None):
        if any(r.external_id == "u3" for r in Records(records, prepared)):  # records may come deferred
            raise DataError("value too long for type character varying(16)")
        return original(self, records, prepared)

    monkeypatch.setattr(SmsIysUpload, "apply", apply)
    transfer = run("".join(SMS.format(i, i) + "\n" for i in range(1, 7)).encode())
    assert transfer.status == FileTransferStatus.FAILED
    assert "lines 3–4" in transfer.error and "value too long" in transfer.error
    assert transfer.created_count == 2 and transfer.claim is None
    FileTransfer.objects.filter(pk=transfer.pk).update(heartbeat_at=None, created_at="2020-01-01T00:00Z")
    assert file_transfers_resume_stalled() == []


def test_a_transfer_that_keeps_stopping_at_the_same_line_is_failed_not_resumed_forever(monkeypatch, settings):
    """A run that dies at the same batch every time (a bug, a worker killed for memory) is
    resumed a few times, then failed with a reason: never retried forever by the reaper."""
    from consent.imports import SmsIysUpload

    monkeypatch.setattr(imports, "BATCH_LINES", 2)
    original = SmsIysUpload.apply

    def apply(self, records, prepared=None):
        if any(r.external_id == "u3" for r in Records(records, prepared)):  # records may come deferred
            raise ZeroDivisionError("a bug in a batch")
        return original(self, records, prepared)

    monkeypatch.setattr(SmsIysUpload, "apply", apply)
    transfer = file_transfer_create(
        name="stuck",
        kind="sms-iys",
        upload=File(io.BytesIO("".join(SMS.format(i, i) + "\n" for i in range(1, 7)).encode()), name="s.txt"),
        enqueue=False,
    )
    settings.FILE_TRANSFER_STALE_SECONDS = 0  # every run is presumed dead as soon as it stops
    settings.LANGUAGE_CODE = "en"  # the worker words the failure in it
    with pytest.raises(ZeroDivisionError):
        file_transfer_run(transfer_id=transfer.pk)
    for _ in range(imports.MAX_RUNS_WITHOUT_PROGRESS - 1):
        with pytest.raises(ZeroDivisionError):  # the reaper queues it again (tasks are eager in tests)
            file_transfers_resume_stalled()
    file_transfers_resume_stalled()
    transfer.refresh_from_db()
    assert transfer.status == FileTransferStatus.FAILED
    assert f"stopped {imports.MAX_RUNS_WITHOUT_PROGRESS} times at line 3" in transfer.error
    assert "lines 1–2 were imported" in transfer.error
    assert transfer.created_count == 2
    assert file_transfers_resume_stalled() == []


# --- item 5: line length and upload size ---------------------------------------------------------
def _file_with_a_giant_line(path, size):
    with open(path, "wb") as fh:
        fh.write((SMS.format(1, 1) + "\n").encode())
        block = b"9" * (1 << 20)
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(b"; SMS; ONAY; 15.05.2025 14:23:00\n")
        fh.write((SMS.format(2, 2) + "\n").encode())


def test_a_giant_line_is_rejected_without_being_held_in_memory(tmp_path, settings):
    """A 50 MB line is skipped in bounded memory (peak of everything the import allocates, traced)
    and rejected with its size; the lines around it land."""
    settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 10**12  # read here, also on PostgreSQL
    path = tmp_path / "giant.txt"
    _file_with_a_giant_line(path, 50 << 20)
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name="giant", kind="sms-iys", upload=File(fh, name="giant.txt"), enqueue=False)
    tracemalloc.start()
    try:
        transfer = file_transfer_run(transfer_id=transfer.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"
    assert (transfer.status, transfer.created_count, transfer.rejected_count) == (FileTransferStatus.DONE, 2, 1)
    reason = rejections(transfer)[2]
    assert "52,428,833 bytes long" in reason and "65,536" in reason
    assert len(RejectedLine.objects.get(line_no=2).raw) <= 4000


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_the_parser_process_obeys_the_line_limit_too(tmp_path, settings, caplog):
    """Big files on PostgreSQL are parsed in a forked child: it skips the giant line the same way,
    and its peak memory (the kernel's count for that process) stays near what it was forked with."""
    require_postgres()
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("needs Linux's /proc to read this process's memory")
    settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 0
    path = tmp_path / "giant.txt"
    _file_with_a_giant_line(path, 50 << 20)
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name="giant", kind="sms-iys", upload=File(fh, name="giant.txt"), enqueue=False)
    before = _rss_bytes()
    with caplog.at_level(logging.INFO, logger="contacts.reading"):
        transfer = file_transfer_run(transfer_id=transfer.pk)
    assert (transfer.status, transfer.created_count, transfer.rejected_count) == (FileTransferStatus.DONE, 2, 1)
    assert "bytes long" in rejections(transfer)[2]
    (peak,) = [r.peak_bytes for r in caplog.records if hasattr(r, "peak_bytes")]
    # conservative: a forked child's count starts a little below its parent's (shared file pages)
    assert peak - before < 30 << 20, f"the parser process grew by {(peak - before) / 2**20:.0f} MiB"


def test_an_upload_over_the_size_cap_is_refused_in_the_form(client, marketer, settings):
    settings.FILE_TRANSFER_MAX_UPLOAD_BYTES = 1000
    client.cookies.load({"django_language": "en"})
    client.force_login(marketer)
    response = client.post(
        reverse("admin:contacts_filetransfer_add"),
        {
            "name": "big",
            "kind": "sms-iys",
            "encoding": "auto",
            "file": SimpleUploadedFile("big.txt", b"9" * 2048, content_type="text/plain"),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "the file is 2.0 KB; files of at most 1,000 bytes can be uploaded" in page
    assert not FileTransfer.objects.exists()


def test_import_file_refuses_a_file_over_the_size_cap(tmp_path, settings):
    settings.FILE_TRANSFER_MAX_UPLOAD_BYTES = 10
    path = tmp_path / "big.txt"
    path.write_bytes((SMS.format(1, 1) + "\n").encode())
    with pytest.raises(CommandError, match="files of at most 10"):
        call_command("import_file", "sms-iys", str(path))
    assert not FileTransfer.objects.exists()


# --- item 6: hostile cells in downloads ----------------------------------------------------------
HOSTILE = ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def test_report_cells_cannot_run_as_formulas():
    body = "\n".join([SMS.format(1, 1), *HOSTILE]).encode()
    transfer = run(body)
    report = "".join(rejected_report_rows(transfer)).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(report)))[1:]
    assert len(rows) == len(HOSTILE)
    for line_no, raw, reason in rows:
        assert raw == "'" + HOSTILE[int(line_no) - 2]
        assert reason and reason[0] not in "=+-@\t\r"


def test_contact_exports_neutralise_formulas_but_keep_phone_numbers(admin_client):
    ContactFactory(external_id="=cmd|' /C calc'!A0", phone="+905321234567", attributes={"city": "-1+1"})
    ContactFactory(external_id="@SUM(1)", phone=None, email="a@example.com")
    url = reverse("admin:contacts_contact_export")
    csv_response = admin_client.post(
        url, {"format": "0", "export_items": list(Contact.objects.values_list("pk", flat=True)), **_all_fields()}
    )
    assert csv_response.status_code == 200, csv_response.content[:500]
    rows = list(csv.DictReader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    by_id = {r["external_id"]: r for r in rows}
    assert set(by_id) == {"'=cmd|' /C calc'!A0", "'@SUM(1)"}
    assert by_id["'=cmd|' /C calc'!A0"]["phone"] == "+905321234567"  # a number cannot carry a formula
    assert by_id["'=cmd|' /C calc'!A0"]["attributes"].startswith("{")
    xlsx_response = admin_client.post(
        url, {"format": "1", "export_items": list(Contact.objects.values_list("pk", flat=True)), **_all_fields()}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert {c.value for c in cells if isinstance(c.value, str) and "SUM" in c.value} == {"'@SUM(1)"}
    assert all(c.data_type != "f" for c in cells)
    assert "+905321234567" in {c.value for c in cells}


def _all_fields():
    from contacts.resources import ContactExportResource

    return {f"contactexportresource_{f}": "on" for f in ContactExportResource.Meta.fields}


def test_an_exported_file_imports_back_to_the_same_values():
    """The quote that neutralises a cell on export is taken off again on import (round trip)."""
    from contacts.resources import ContactExportResource, ContactImportResource

    ContactFactory(external_id="=1+2", phone="+905321234567")
    exported = ContactExportResource().export().csv
    Contact.objects.all().delete()
    import tablib

    result = ContactImportResource().import_data(tablib.Dataset().load(exported, format="csv"), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Contact.objects.get().external_id == "=1+2"


# --- item 9: mixed encodings and repeated lines ---------------------------------------------------
def test_a_windows_1254_line_in_a_utf8_file_is_rejected_not_garbled():
    lines = [f"90533123456{i},Çağrı-{i}".encode() for i in range(1, 7)]
    lines[3] = "905331234564,Şükrü-4".encode("cp1254")
    transfer = run(b"\n".join(lines) + b"\n", kind="users")
    assert transfer.detected_encoding == "utf-8"
    assert rejections(transfer) == {
        4: "the line is not valid UTF-8 (the rest of the file is): save the file in one encoding"
    }
    assert RejectedLine.objects.get().raw == "905331234564,Şükrü-4"  # shown as it was meant
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == [f"Çağrı-{i}" for i in (1, 2, 3, 5, 6)]


def test_a_utf8_line_in_a_windows_1254_file_is_rejected_not_garbled():
    lines = [f"90533123456{i},Çağrı-{i}".encode("cp1254") for i in range(1, 7)]
    lines[1] = "905331234562,Şükrü-2".encode()
    transfer = run(b"\n".join(lines) + b"\n", kind="users")
    assert transfer.detected_encoding == "cp1254"
    reason = rejections(transfer)[2]
    assert reason == "the line is in UTF-8 while the rest of the file is in Windows-1254: save the file in one encoding"
    assert RejectedLine.objects.get().raw == "905331234562,Şükrü-2"
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == [f"Çağrı-{i}" for i in (1, 3, 4, 5, 6)]


def test_a_utf8_line_in_a_file_chosen_as_windows_1254_is_rejected():
    body = "905331234561,Çağrı\n905331234562,plain\n".encode()
    transfer = run(body, kind="users", encoding="cp1254")
    assert "UTF-8" in rejections(transfer)[1] and transfer.created_count == 1
    assert not Contact.objects.filter(external_id__contains="Ã").exists()


REPEATED = {
    "users": ["905331234561,u1"],
    "sms-iys": [SMS.format(1, 1)],
    "email-iys": ["a@example.com; web; ONAY; 15.05.2025 14:23:00"],
    "whatsapp": ["u1,,,905331234561,1"],
}


@pytest.mark.parametrize("batch_lines", [5000, 2])
@pytest.mark.parametrize("kind", sorted(REPEATED))
def test_a_line_repeated_three_times_creates_once_and_counts_the_repeats_unchanged(kind, batch_lines, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_LINES", batch_lines)
    header = ["exid,email,msisdn,wpNumber,permission"] if kind == "whatsapp" else []
    transfer = run(("\n".join(header + REPEATED[kind] * 3) + "\n").encode(), kind=kind)
    assert counts(transfer) == {"read": 3, "created": 1, "updated": 0, "unchanged": 2, "rejected": 0}
    assert Contact.objects.count() == 1
    assert Consent.objects.count() == (kind != "users")  # the WhatsApp import writes WHATSAPP consent
    assert ConsentChange.objects.count() == Consent.objects.count()  # a repeated line adds no history


def test_a_repeat_that_adds_to_the_contact_a_line_created_counts_as_updated():
    transfer = run(b"905331234561\n905331234561,u1\n905331234561,u1\n", kind="users")
    assert counts(transfer) == {"read": 3, "created": 1, "updated": 1, "unchanged": 1, "rejected": 0}
    assert Contact.objects.get().external_id == "u1"


# --- item 10a: the progress endpoint ------------------------------------------------------------
@pytest.mark.parametrize("ids", ["²", "1,²", "abc", "-1", "1.5", "99999999999999999999", "٣"])
def test_progress_with_ids_that_are_not_transfer_ids_is_a_400_with_a_message(client, marketer, ids):
    client.force_login(marketer)
    response = client.get(reverse("admin:contacts_filetransfer_progress"), {"ids": ids})
    assert response.status_code == 400
    assert "ids" in response.json()["error"]


def test_progress_still_answers_for_good_ids(client, marketer):
    client.force_login(marketer)
    transfer = run((SMS.format(1, 1) + "\n").encode())
    response = client.get(
        reverse("admin:contacts_filetransfer_progress"), {"ids": f"{transfer.pk}, ,{transfer.pk + 1}"}
    )
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["transfers"]] == [transfer.pk]


def test_the_report_of_an_id_beyond_any_transfer_is_a_404(client, marketer):
    client.force_login(marketer)
    response = client.get(f"/admin/contacts/filetransfer/{10**20}/rejected.csv")
    assert response.status_code == 404


def test_an_export_of_chosen_contacts_holds_those_alone(admin_client):
    """export_items posted: only those contacts, and an id no contact has (or not a number) adds none."""
    chosen = ContactFactory(external_id="chosen", phone="+905321234561")
    ContactFactory(external_id="other", phone="+905321234562")
    response = admin_client.post(
        reverse("admin:contacts_contact_export"),
        {"format": "0", "export_items": [str(chosen.pk)], **_all_fields()},
    )
    assert response.status_code == 200, response.content[:500]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["external_id"] for r in rows] == ["chosen"]
    refused = admin_client.post(
        reverse("admin:contacts_contact_export"),
        {"format": "0", "export_items": [str(chosen.pk), "999999", "x"], **_all_fields()},
    )
    assert refused.status_code == 200
    assert refused.get("Content-Disposition") is None  # the form is shown again: an id not offered
