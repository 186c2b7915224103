"""Big files are parsed in a second process on PostgreSQL (FILE_TRANSFER_PARSE_PROCESS_BYTES):
the outcome must be exactly the in-process one, refusals included, and resuming still works."""

import io

import pytest
from django.core.files import File
from django.db import connection
from django.utils import translation

import contacts.imports
from consent.models import Consent, ConsentChange
from contacts.imports import file_transfer_create, file_transfer_run
from contacts.models import Contact, FileTransfer, FileTransferStatus
from tests.contacts.helpers import import_data_file, rejections
from tests.services import require_postgres

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

FILES = [
    ("sms-iys", "sms_iys_mixed.txt"),
    ("sms-iys", "sms_iys_bom.csv"),
    ("email-iys", "email_iys_cp1254.txt"),
    ("users", "users.csv"),
    ("whatsapp", "whatsapp.csv"),
    ("sms-iys", "all_bad_sms.txt"),
]


def _outcome(transfer):
    counts = {k: getattr(transfer, f"{k}_count") for k in ("read", "created", "updated", "unchanged", "rejected")}
    return transfer.status, transfer.error, counts, rejections(transfer)


def _state():
    fields = ("external_id", "phone", "email", "whatsapp_number", "sms_subscription")
    return (
        sorted(Contact.objects.values_list(*fields), key=lambda row: [v or "" for v in row]),
        sorted(Consent.objects.values_list("recipient", "type", "status", "source")),
        ConsentChange.objects.count(),
    )


def _wipe():
    ConsentChange.objects.all()._raw_delete(ConsentChange.objects.db)  # append-only for the app, not for a test
    Consent.objects.all().delete()
    Contact.objects.all().delete()


@pytest.mark.parametrize(("kind", "name"), FILES)
def test_a_child_parser_gives_the_in_process_outcome(settings, kind, name):
    require_postgres()
    settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 10**12  # in this process
    here = _outcome(import_data_file(kind, name))
    here_state = _state()
    _wipe()
    settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 0  # every file in a child process
    there = _outcome(import_data_file(kind, name))
    assert there == here
    assert _state() == here_state


def test_a_refused_header_in_the_child_fails_the_transfer_plainly(settings, tmp_path):
    require_postgres()
    settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 0
    from django.core.files import File

    from contacts.imports import file_transfer_create

    path = tmp_path / "wa.csv"
    path.write_text("exid,email,phone_number,permission\nu1,,,905331234567,1\n", encoding="utf-8")
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name="wa", kind="whatsapp", upload=File(fh, name="wa.csv"), enqueue=False)
    with translation.override("en"):  # the failure is written in the language of the run
        transfer = file_transfer_run(transfer_id=transfer.pk)
    assert transfer.status == FileTransferStatus.FAILED
    assert transfer.error.startswith("line 1:")


def test_a_child_parser_resumes_after_the_checkpoint(settings):
    """A transfer whose first 10 lines were committed before its worker died: only the lines after
    the checkpoint are read and applied, in a child as in process."""
    require_postgres()
    from django.core.files import File

    from contacts.imports import file_transfer_create
    from tests.contacts.helpers import DATA

    outcomes = []
    for limit in (10**12, 0):
        settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = limit
        with open(DATA / "sms_iys_mixed.txt", "rb") as fh:
            transfer = file_transfer_create(
                name=f"resume {limit}", kind="sms-iys", upload=File(fh, name="sms_iys_mixed.txt"), enqueue=False
            )
        FileTransfer.objects.filter(pk=transfer.pk).update(lines_done=10, status=FileTransferStatus.PROCESSING)
        outcomes.append((_outcome(file_transfer_run(transfer_id=transfer.pk)), _state()))
        _wipe()
    (here, here_state), (there, there_state) = outcomes
    assert there == here and there_state == here_state
    assert here[2]["read"] < 20 and min(here[3], default=11) > 10  # lines 1-10 were not read again


def test_a_crashed_child_parser_stops_the_run_and_leaves_it_resumable(settings, monkeypatch):
    """A bug that kills the parser mid-file is not taken for the end of the file."""
    require_postgres()
    from consent.imports import SmsIysUpload
    from contacts import imports

    settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 0
    monkeypatch.setattr(imports, "BATCH_LINES", 5)
    original = SmsIysUpload.parse

    def parse(self, text):
        if text.startswith("905331234570"):
            raise ZeroDivisionError("a parser bug")
        return original(self, text)

    monkeypatch.setattr(SmsIysUpload, "parse", parse)
    from django.core.files import File

    from contacts.imports import file_transfer_create

    lines = "".join(f"9053312345{60 + i}; SMS; ONAY; 15.05.2025 14:23:00\n" for i in range(20))
    transfer = file_transfer_create(
        name="crash", kind="sms-iys", upload=File(io.BytesIO(lines.encode()), name="c.txt"), enqueue=False
    )
    with pytest.raises(RuntimeError, match="parser process failed"):
        file_transfer_run(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.status == FileTransferStatus.PROCESSING  # resumable, not "done" with lines missing
    assert transfer.lines_done == 10  # the two batches before the bad line were committed
    monkeypatch.setattr(SmsIysUpload, "parse", original)
    FileTransfer.objects.filter(pk=transfer.pk).update(claim=None)
    done = file_transfer_run(transfer_id=transfer.pk)
    assert (done.status, done.read_count, done.created_count) == (FileTransferStatus.DONE, 20, 20)


def test_a_long_import_in_debug_mode_does_not_keep_every_statement(settings, monkeypatch, tmp_path):
    """With DEBUG on, Django keeps each statement's SQL (a batch's İYS statement is hundreds of KB);
    the import lets go of it after each batch, so memory stays flat however long the file."""
    settings.DEBUG = True
    monkeypatch.setattr(contacts.imports, "BATCH_LINES", 10)
    lines = "".join(f"90533{5000000 + i:07d}; SMS; ONAY; 15.05.2025 14:23:00; d{i}\n" for i in range(200))
    path = tmp_path / "long.txt"
    path.write_text(lines, encoding="utf-8")
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name="long", kind="sms-iys", upload=File(fh, name="long.txt"), enqueue=False)
    connection.queries_log.clear()
    done = file_transfer_run(transfer_id=transfer.pk)
    assert (done.status, done.created_count) == (FileTransferStatus.DONE, 200)
    assert 0 < len(connection.queries) < 40  # 20 batches of several statements each: only the last few are kept
