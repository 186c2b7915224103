import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.imports import file_transfer_run
from contacts.models import FileTransfer, FileTransferStatus
from tests.contacts.helpers import DATA

pytestmark = pytest.mark.django_db


def upload(client, name, kind="sms-iys", label="May consents"):
    content = (DATA / name).read_bytes() if (DATA / name).exists() else b"x"
    return client.post(
        reverse("admin:contacts_filetransfer_add"),
        {
            "name": label,
            "kind": kind,
            "encoding": "auto",
            "file": SimpleUploadedFile(name, content, content_type="text/plain"),
        },
    )


def test_marketer_uploads_and_sees_counts_and_report(client, marketer, django_capture_on_commit_callbacks, settings):
    settings.LANGUAGE_CODE = "en"  # the worker writes the reasons in it (Turkish: test_import_reasons_language)
    client.cookies.load({"django_language": "en"})
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = upload(client, "sms_iys_mixed.txt")
    assert len(queued) == 1  # processing is queued after the upload commits
    assert response.status_code == 302 and response.url == reverse("admin:contacts_filetransfer_changelist")
    transfer = FileTransfer.objects.get(name="May consents")
    assert transfer.status == FileTransferStatus.DONE and transfer.uploaded_by == marketer  # eager in tests
    page = client.get(response.url).content.decode()
    assert "May consents" in page and "rejected.csv" in page
    progress = client.get(reverse("admin:contacts_filetransfer_progress"), {"ids": str(transfer.pk)}).json()
    assert progress["transfers"][0]["progress"] == 100 and progress["active"] == []
    report = client.get(reverse("admin:contacts_filetransfer_report", args=[transfer.pk]))
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    rows = body.strip().splitlines()
    assert rows[0] == "line,raw line,reason" and len(rows) == 1 + transfer.rejected_count
    assert rows[1].startswith("5,") and "capitals" in rows[1]


def test_other_extensions_are_refused_in_the_form(client, marketer):
    client.cookies.load({"django_language": "en"})
    client.force_login(marketer)
    response = upload(client, "contacts.xlsx", kind="users")
    assert response.status_code == 200
    assert "only .txt and .csv files are accepted" in response.content.decode()
    assert not FileTransfer.objects.exists()


def test_a_stopped_transfer_resumes_after_its_checkpoint(tmp_path, settings):
    """A worker killed mid-file leaves `lines_done` at the last committed batch; the re-run
    applies only the lines after it, so counts and effects are exactly those of one run."""
    from django.core.files import File

    from contacts import imports

    lines = [f"90533{1000000 + i:07d}; SMS; ONAY; 15.05.2025 14:23:00; u{i}" for i in range(50)]
    path = tmp_path / "big.txt"
    path.write_text("\n".join(lines) + "\n")
    with open(path, "rb") as fh:
        transfer = imports.file_transfer_create(
            name="big", kind="sms-iys", upload=File(fh, name="big.txt"), enqueue=False
        )
    original = imports.BATCH_LINES
    imports.BATCH_LINES = 20
    calls = {"n": 0}
    real_flush = imports._flush

    def dying_flush(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real_flush(*args, **kwargs)

    try:
        imports._flush = dying_flush
        with pytest.raises(SystemExit):
            file_transfer_run(transfer_id=transfer.pk)
        imports._flush = real_flush
        midway = FileTransfer.objects.get(pk=transfer.pk)
        assert midway.status == FileTransferStatus.PROCESSING and midway.lines_done == 20
        # while its claim is fresh, a second run leaves it to the (presumed live) owner
        assert file_transfer_run(transfer_id=transfer.pk).lines_done == 20
        settings.FILE_TRANSFER_STALE_SECONDS = 0  # the owner stopped beating: the reaper's case
        assert imports.file_transfers_resume_stalled() == [transfer.pk]  # eager: resumes here
    finally:
        imports._flush = real_flush
        imports.BATCH_LINES = original
    done = FileTransfer.objects.get(pk=transfer.pk)
    assert (done.status, done.read_count, done.created_count, done.unchanged_count) == ("done", 50, 50, 0)
    from consent.models import ConsentChange

    assert ConsentChange.objects.count() == 50
