"""Faults (issue 12, item 17): PostgreSQL kills an import's connections (pg_terminate_backend, as a
failover or an operator would) twice in the middle of a big SMS İYS upload run by a real worker
with the forked parser. The transfer still finishes done, every line of the file accounted for
exactly once, no consent or history row written twice by a replayed batch."""

import time

import pytest
from django.core.files import File
from django.db import OperationalError, connection, transaction

import contacts.imports
from consent.models import Consent, ConsentChange
from contacts.imports import file_transfer_create, file_transfer_run, file_transfers_resume_stalled
from contacts.models import Contact, FileTransfer, FileTransferStatus, RejectedLine

NEW = 150_000  # distinct numbers, each created by an ONAY line
BAD_EVERY = 10_000  # a bad line after every this many lines
LATER_RET_EVERY = 10  # every 10th number is refused later in the file: one update each
REPEAT_EVERY = 20  # and every 20th (offset by 5) repeated as it was: unchanged


def _phone(i: int) -> str:
    return f"90533{5000000 + i:07d}"


def _file() -> tuple[str, dict]:
    lines, expected = [], {"created": NEW, "updated": 0, "unchanged": 0, "rejected": 0}
    for i in range(NEW):
        lines.append(f"{_phone(i)}; SMS; ONAY; 15.05.2025 14:23:00; f{i}\n")
        if i % BAD_EVERY == BAD_EVERY - 1:
            lines.append(f"{_phone(i)}; SMS; onay; 15.05.2025 14:23:00\n")  # the status is case-sensitive
            expected["rejected"] += 1
    for i in range(0, NEW, LATER_RET_EVERY):
        lines.append(f"{_phone(i)}; SMS; RET; 16.05.2025 09:00:00; f{i}\n")
        expected["updated"] += 1
    for i in range(5, NEW, REPEAT_EVERY):
        lines.append(f"{_phone(i)}; SMS; ONAY; 15.05.2025 14:23:00; f{i}\n")
        expected["unchanged"] += 1
    expected["read"] = len(lines)
    return "".join(lines), expected


def _kill_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def _lines_done(transfer) -> int:
    return FileTransfer.objects.get(pk=transfer.pk).lines_done


def _beat(seconds: float) -> None:
    """Run the stall reaper as beat does (every 60 s there, many times a second here)."""
    file_transfers_resume_stalled()
    time.sleep(seconds)


@pytest.mark.services
def test_an_import_whose_connections_are_killed_twice_finishes_exactly_once(
    private_redis, real_celery, tmp_path, settings
):
    text, expected = _file()
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size > 1 << 20  # parsed in the worker's forked child (the threshold below)
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name="big", kind="sms-iys", upload=File(fh, name="big.txt"), enqueue=False)
    settings.FILE_TRANSFER_STALE_SECONDS = 3
    real_celery("imports", env={"FILE_TRANSFER_STALE_SECONDS": "3", "FILE_TRANSFER_PARSE_PROCESS_BYTES": str(1 << 20)})
    from contacts.tasks import process_file_transfer

    process_file_transfer.delay(transfer.pk)
    deadline = time.monotonic() + 80
    killed_at = []
    for after in (25_000, 45_000):  # lines committed before the first kill, then between the kills
        target = (killed_at[-1] if killed_at else 0) + after
        while _lines_done(transfer) < target:
            assert time.monotonic() < deadline, f"the import made no progress after {len(killed_at)} kill(s)"
            _beat(0.05)
        killed_at.append(_lines_done(transfer))
        assert _kill_other_backends() >= 1  # the worker's connection, mid-batch or between batches
    assert killed_at[-1] < expected["read"]  # both kills landed mid-import
    while FileTransfer.objects.get(pk=transfer.pk).status != FileTransferStatus.DONE:
        assert time.monotonic() < deadline, f"the import did not finish: {FileTransfer.objects.get(pk=transfer.pk)}"
        _beat(0.2)

    done = FileTransfer.objects.get(pk=transfer.pk)
    assert {k: getattr(done, f"{k}_count") for k in expected} == expected  # each line once, in one bucket
    assert (done.lines_done, done.error) == (expected["read"], "")
    assert Contact.objects.count() == Consent.objects.count() == NEW  # one per distinct number
    assert Consent.objects.filter(status="RET").count() == expected["updated"]
    assert ConsentChange.objects.count() == expected["created"] + expected["updated"]  # one per effective change
    assert sorted(RejectedLine.objects.filter(file_transfer=done).values_list("line_no", flat=True)) == [
        n for n, line in enumerate(text.splitlines(), start=1) if "; onay;" in line
    ]


def _connection_died():
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db(transaction=True)
def test_a_batch_committed_before_its_connection_died_is_not_applied_again(monkeypatch, tmp_path):
    """The connection can die after PostgreSQL committed a batch but before the worker heard so:
    the worker sees an OperationalError and retries the batch. The retry must find the batch's
    checkpoint and stop there, not apply and count the batch a second time."""
    monkeypatch.setattr(contacts.imports, "BATCH_LINES", 10)
    path = tmp_path / "t.txt"
    path.write_text("".join(f"{_phone(i)}; SMS; ONAY; 15.05.2025 14:23:00\n" for i in range(30)), encoding="utf-8")
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name="t", kind="sms-iys", upload=File(fh, name="t.txt"), enqueue=False)
    original = contacts.imports._relaxed_commit
    lost = []

    def relaxed_commit_whose_answer_is_lost():
        original()
        if not lost and FileTransfer.objects.get(pk=transfer.pk).lines_done == 10:  # the second batch
            lost.append(True)
            transaction.on_commit(_connection_died)  # raised once the batch has committed

    monkeypatch.setattr(contacts.imports, "_relaxed_commit", relaxed_commit_whose_answer_is_lost)
    done = file_transfer_run(transfer_id=transfer.pk)
    assert lost == [True]
    counts = (done.status, done.read_count, done.created_count, done.unchanged_count)
    assert counts == (FileTransferStatus.DONE, 30, 30, 0)
    assert ConsentChange.objects.count() == Consent.objects.count() == 30
