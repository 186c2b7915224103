"""Concurrency on PostgreSQL: two imports at once never leave one WhatsApp number on two contacts
nor write one consent twice, and a real worker killed mid-file loses and duplicates nothing."""

import os
import signal
import threading
import time

import pytest
from django.core.files import File
from django.db import connection, connections

from consent.models import Consent, ConsentChange
from contacts.imports import file_transfer_create, file_transfer_run, file_transfers_resume_stalled
from contacts.models import Contact, FileTransfer, FileTransferStatus, SmsSubscription
from tests.contacts.factories import ContactFactory
from tests.services import require_postgres

pytestmark = [pytest.mark.services]


def _transfer(tmp_path, name, text, kind="whatsapp"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with open(path, "rb") as fh:
        return file_transfer_create(name=name, kind=kind, upload=File(fh, name=name), enqueue=False)


def _run_at_once(*transfers) -> None:
    """Run the transfers in threads released together (each with its own connection)."""
    barrier = threading.Barrier(len(transfers))
    errors = []

    def run(transfer_id):
        try:
            barrier.wait()
            file_transfer_run(transfer_id=transfer_id)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t.pk,)) for t in transfers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_two_imports_racing_for_the_same_numbers_leave_each_on_one_contact(tmp_path):
    require_postgres()
    numbers = [f"90533{2000000 + i:07d}" for i in range(300)]
    for i in range(300):
        ContactFactory(external_id=f"a{i}")
        ContactFactory(external_id=f"b{i}")
    first = _transfer(
        tmp_path, "a.csv", "exid,wpNumber,permission\n" + "".join(f"a{i},{n},1\n" for i, n in enumerate(numbers))
    )
    second = _transfer(
        tmp_path, "b.csv", "exid,wpNumber,permission\n" + "".join(f"b{i},{n},2\n" for i, n in enumerate(numbers))
    )
    _run_at_once(first, second)
    assert set(FileTransfer.objects.values_list("status", flat=True)) == {FileTransferStatus.DONE}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT whatsapp_number, count(*) FROM contacts_contact WHERE whatsapp_number IS NOT NULL "
            "GROUP BY whatsapp_number HAVING count(*) > 1"
        )
        assert cursor.fetchall() == []
    assert Contact.objects.filter(whatsapp_number__isnull=False).count() == 300


@pytest.mark.django_db(transaction=True)
def test_two_sms_iys_imports_racing_for_the_same_new_numbers_keep_one_consent_each(tmp_path):
    """Both find the numbers new and write them in one statement; the one that loses the race on
    the consent's unique key retries its batch, which then finds them and goes through the ledger."""
    require_postgres()
    lines = 12_000  # three batches each
    phones = [f"90533{4000000 + i:07d}" for i in range(lines)]
    first = _transfer(
        tmp_path, "onay.txt", "".join(f"{p}; SMS; ONAY; 15.05.2025 14:23:00\n" for p in phones), kind="sms-iys"
    )
    second = _transfer(
        tmp_path, "ret.txt", "".join(f"{p}; SMS; RET; 16.05.2025 09:00:00\n" for p in phones), kind="sms-iys"
    )
    _run_at_once(first, second)
    done = list(FileTransfer.objects.order_by("pk"))
    assert [t.status for t in done] == [FileTransferStatus.DONE] * 2
    for transfer in done:
        assert transfer.read_count == lines and transfer.rejected_count == 0
        assert transfer.created_count + transfer.updated_count + transfer.unchanged_count == lines
    assert sum(t.created_count for t in done) == lines  # each number created once, by one of them
    assert Consent.objects.count() == lines
    assert set(Consent.objects.values_list("status", flat=True)) == {"RET"}  # the later date wins
    assert Contact.objects.count() == lines  # the loser matched the winner's contacts by phone
    assert set(Contact.objects.values_list("sms_subscription", flat=True)) == {SmsSubscription.NOT_SUBSCRIBED}
    history = ConsentChange.objects.count()
    assert lines <= history <= 2 * lines
    assert history == lines + sum(t.updated_count for t in done)


def test_a_killed_worker_neither_loses_nor_duplicates_lines(real_celery, tmp_path, settings):
    lines = 60_000
    text = "".join(f"90533{3000000 + i:07d}; SMS; ONAY; 15.05.2025 14:23:00; k{i}\n" for i in range(lines))
    text += "905331234565; SMS; onay; 15.05.2025 14:23:00\n"  # one bad line
    transfer = _transfer(tmp_path, "big.txt", text, kind="sms-iys")
    worker = real_celery("imports")
    from contacts.tasks import process_file_transfer

    process_file_transfer.delay(transfer.pk)
    deadline = time.monotonic() + 120
    while FileTransfer.objects.get(pk=transfer.pk).lines_done < 4000:
        assert time.monotonic() < deadline, "the worker never committed a batch"
        time.sleep(0.05)
    worker.kill(signal.SIGKILL)
    midway = FileTransfer.objects.get(pk=transfer.pk)
    assert midway.status == FileTransferStatus.PROCESSING and midway.lines_done < lines
    real_celery("imports")
    settings.FILE_TRANSFER_STALE_SECONDS = 0  # the dead worker's heartbeat is old now
    assert file_transfers_resume_stalled() == [transfer.pk]
    deadline = time.monotonic() + 180
    while FileTransfer.objects.get(pk=transfer.pk).status != FileTransferStatus.DONE:
        assert time.monotonic() < deadline, "the resumed transfer did not finish"
        time.sleep(0.2)
    done = FileTransfer.objects.get(pk=transfer.pk)
    assert (done.read_count, done.created_count, done.rejected_count) == (lines + 1, lines, 1)
    assert ConsentChange.objects.count() == lines
    assert Contact.objects.count() == lines
    assert os.path.exists(done.file.path)
