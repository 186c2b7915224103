"""File Transfers: create, then process line by line in batches (product.md File transfers).

contacts.reading turns the file into batches of parsed lines; this module claims the transfer,
runs it, and writes and records each batch. Each batch commits its effects, its rejected lines,
the counts and the checkpoint (`lines_done`) in one transaction, so a worker killed mid-file
resumes where it stopped and applies nothing twice; accepted lines land whatever the other lines
hold. A failed transfer's message is worded in the active language (the worker's is
settings.LANGUAGE_CODE, contacts.tasks), as its bad-line reasons are: the panel shows both."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import (
    DataError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    connection,
    reset_queries,
    transaction,
)
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from contacts.bulk import insert_objects
from contacts.models import FileEncoding, FileTransfer, FileTransferStatus, RejectedLine
from contacts.parsers import Rejection
from contacts.reading import file_encoding, in_child_process, parsed_batches
from contacts.transfers import CREATED, UNCHANGED, UPDATED, transfer_kind

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".txt", ".csv")
BATCH_LINES = 5000
# A transfer is failed, not queued again, when this many runs in a row stopped before committing a batch
MAX_RUNS_WITHOUT_PROGRESS = 3


def _size(n: float) -> str:
    """A file size in the active language's digits (1,5 MB in Turkish, 1.5 MB in English)."""
    if n < 1024:
        return gettext("%(n)s bytes") % {"n": number_format(int(n), force_grouping=True)}
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            return f"{number_format(n, 1, force_grouping=True)} {unit}"
    raise AssertionError("unreachable")


def check_size(size: int) -> None:
    """An upload above FILE_TRANSFER_MAX_UPLOAD_BYTES is refused (the form, import_file and the service)."""
    limit = settings.FILE_TRANSFER_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            gettext("the file is %(size)s; files of at most %(max)s can be uploaded: split it into smaller files")
            % {"size": _size(size), "max": _size(limit)}
        )


def check_extension(filename: str) -> None:
    ext = os.path.splitext(filename)[1].lower()
    if ext not in ALLOWED_EXTENSIONS:
        named = {"name": filename, "ext": ext}
        if ext:
            raise ValidationError(
                gettext("'%(name)s' cannot be imported: only .txt and .csv files are accepted (this one is %(ext)s)")
                % named
            )
        raise ValidationError(
            gettext("'%(name)s' cannot be imported: only .txt and .csv files are accepted (this one has no extension)")
            % named
        )


def file_transfer_create(
    *,
    name: str,
    kind: str,
    upload: UploadedFile,
    encoding: str = FileEncoding.AUTO,
    uploaded_by=None,
    enqueue: bool = True,
) -> FileTransfer:
    """Store the upload and queue its processing on the `imports` queue (returns at once)."""
    check_extension(upload.name)
    check_size(upload.size or 0)
    transfer = FileTransfer(
        name=name.strip() or upload.name,
        kind=kind,
        encoding=encoding,
        original_name=os.path.basename(upload.name),
        uploaded_by=uploaded_by,
        size_bytes=upload.size or 0,
    )
    transfer.file.save(os.path.basename(upload.name), upload, save=False)
    transfer.save()
    if enqueue:
        from contacts.tasks import process_file_transfer

        transaction.on_commit(lambda: process_file_transfer.delay(transfer.pk))
    return transfer


@dataclass
class _Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class ClaimLost(Exception):
    """Another worker took this transfer over (this one was presumed dead); stop quietly."""


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.FILE_TRANSFER_STALE_SECONDS)


def _claim(transfer_id: int) -> uuid.UUID | None:
    """Own the transfer if nobody does, or if its owner stopped beating (a killed worker)."""
    token = uuid.uuid4()
    owned = FileTransfer.objects.filter(
        Q(claim=None) | Q(heartbeat_at__lt=_stale_before()),
        pk=transfer_id,
        status__in=[FileTransferStatus.QUEUED, FileTransferStatus.PROCESSING],
    ).update(claim=token, heartbeat_at=timezone.now(), runs_without_progress=F("runs_without_progress") + 1)
    return token if owned == 1 else None


def _fail(transfer_id: int, message: str) -> None:
    FileTransfer.objects.filter(pk=transfer_id).update(
        status=FileTransferStatus.FAILED,
        error=message.replace("\x00", "\N{SYMBOL FOR NULL}"),  # a database text column cannot hold NUL
        finished_at=timezone.now(),
        claim=None,
    )


def _stuck_message(transfer: FileTransfer) -> str:
    done = transfer.lines_done
    imported = gettext("lines 1–%(done)s were imported") % {"done": done} if done else gettext("no line was imported")
    return gettext(
        "the import stopped %(runs)s times at line %(line)s without getting further (the worker processing it "
        "failed or was stopped each time; its log says why); %(imported)s. Check the lines from %(line)s on and "
        "upload them again, or report this transfer (id %(id)s)."
    ) % {"runs": MAX_RUNS_WITHOUT_PROGRESS, "line": done + 1, "imported": imported, "id": transfer.pk}


def file_transfer_run(*, transfer_id: int) -> FileTransfer:
    """Process (or resume) a transfer. Safe to run again: a finished one is left as it is, and one
    that another live worker is processing is left to it."""
    token = _claim(transfer_id)
    transfer = FileTransfer.objects.get(pk=transfer_id)
    if token is None:
        return transfer
    transfer.claim = token
    if transfer.runs_without_progress > MAX_RUNS_WITHOUT_PROGRESS:
        logger.error(
            "file transfer %s: %s runs stopped at line %s; failed, not resumed again",
            transfer_id,
            MAX_RUNS_WITHOUT_PROGRESS,
            transfer.lines_done + 1,
        )
        _fail(transfer_id, _stuck_message(transfer))
        return FileTransfer.objects.get(pk=transfer_id)
    try:
        return _run(transfer)
    except ClaimLost:
        logger.warning("file transfer %s: taken over by another worker; this run stops", transfer_id)
        return FileTransfer.objects.get(pk=transfer_id)


def file_transfers_resume_stalled() -> list[int]:
    """The reaper: release the claim of every transfer whose worker stopped beating (killed, OOM,
    deploy) and queue it again; it resumes after its checkpoint."""
    stale = _stale_before()
    candidates = FileTransfer.objects.filter(
        status__in=[FileTransferStatus.QUEUED, FileTransferStatus.PROCESSING]
    ).filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at=None, created_at__lt=stale))
    from contacts.tasks import process_file_transfer

    resumed = []
    for pk, claim, beat in candidates.values_list("pk", "claim", "heartbeat_at"):
        # conditional: a worker that beat in the meantime keeps its transfer
        released = FileTransfer.objects.filter(pk=pk, claim=claim, heartbeat_at=beat).update(claim=None)
        if released:
            logger.warning("file transfer %s stalled; queued again to resume after its checkpoint", pk)
            resumed.append(pk)
            process_file_transfer.delay(pk)
    return resumed


def _run(transfer: FileTransfer) -> FileTransfer:
    try:
        check_extension(transfer.original_name)
        path = transfer.file.path
        size = os.path.getsize(path)
    except ValidationError as exc:
        _fail(transfer.pk, exc.messages[0])
        return FileTransfer.objects.get(pk=transfer.pk)
    except (OSError, ValueError):
        _fail(transfer.pk, gettext("the uploaded file is no longer on the server; upload it again"))
        return FileTransfer.objects.get(pk=transfer.pk)
    encoding = file_encoding(path, transfer.encoding, max_line=settings.FILE_TRANSFER_MAX_LINE_BYTES)
    FileTransfer.objects.filter(pk=transfer.pk).update(
        status=FileTransferStatus.PROCESSING,
        detected_encoding=encoding.replace("-sig", ""),
        size_bytes=size,
        started_at=transfer.started_at or timezone.now(),
    )
    kind = transfer_kind(transfer)
    started = time.monotonic()
    produce = functools.partial(
        parsed_batches,
        kind,
        path,
        encoding,
        transfer.lines_done,
        max_line=settings.FILE_TRANSFER_MAX_LINE_BYTES,
        detected=transfer.encoding == FileEncoding.AUTO,
        batch_lines=BATCH_LINES,
    )
    in_child = connection.vendor == "postgresql" and size >= settings.FILE_TRANSFER_PARSE_PROCESS_BYTES
    statistics = _FreshStatistics(kind.grown_models())
    with contextlib.closing(in_child_process(produce, transfer.pk) if in_child else produce()) as items:
        for item in items:
            if item[0] == "fail":
                _fail(transfer.pk, item[1])
                return FileTransfer.objects.get(pk=transfer.pk)
            _, pending, offset, prepared = item
            try:
                _flush(transfer, kind, pending, offset, prepared)
            except (DataError, ProgrammingError) as exc:
                # the same lines would be refused again on every resume: stop here, with the reason
                first, last = pending[0][0], pending[-1][0]
                logger.exception("file transfer %s: the database refused lines %s-%s", transfer.pk, first, last)
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                _fail(
                    transfer.pk,
                    gettext(
                        "the import stopped: lines %(first)s–%(last)s could not be saved (%(reason)s); the lines "
                        "before them were imported. Check those lines and upload them again, or report this "
                        "transfer (id %(id)s)."
                    )
                    % {"first": first, "last": last, "reason": reason, "id": transfer.pk},
                )
                return FileTransfer.objects.get(pk=transfer.pk)
            statistics.lines_written(len(pending))
            if settings.DEBUG:  # Django keeps every statement's SQL in DEBUG: a batch's runs to megabytes
                reset_queries()
    transfer = FileTransfer.objects.get(pk=transfer.pk)
    if transfer.read_count == 0:
        _fail(transfer.pk, gettext("the file has no lines to import"))
    elif transfer.rejected_count == transfer.read_count:
        _fail(
            transfer.pk,
            gettext("no valid line: all %(count)s lines were rejected; see the report")
            % {"count": number_format(transfer.read_count, force_grouping=True)},
        )
    else:
        FileTransfer.objects.filter(pk=transfer.pk).update(
            status=FileTransferStatus.DONE, finished_at=timezone.now(), bytes_done=size, claim=None
        )
    transfer = FileTransfer.objects.get(pk=transfer.pk)
    logger.info(
        "file transfer %s (%s) %s in %.1fs: read %s, created %s, updated %s, unchanged %s, rejected %s",
        transfer.pk,
        transfer.kind,
        transfer.status,
        time.monotonic() - started,
        transfer.read_count,
        transfer.created_count,
        transfer.updated_count,
        transfer.unchanged_count,
        transfer.rejected_count,
    )
    return transfer


class _FreshStatistics:
    """PostgreSQL plans each batch's look-ups (a thousand phones at once) from table statistics. A
    table an import grows from empty has none until autovacuum's analyze comes round (up to a
    minute late, and never where autovacuum is off), and without them the planner reads the whole
    table for every batch: 70 ms a batch at a million contacts instead of 5. So the tables are
    analyzed after 20,000 lines and again each time the lines written double."""

    FIRST = 20_000

    def __init__(self, models: list):
        self.tables = [m._meta.db_table for m in models] if connection.vendor == "postgresql" else []
        self.written = 0
        self.next_at = self.FIRST

    def lines_written(self, count: int) -> None:
        self.written += count
        if not self.tables or self.written < self.next_at:
            return
        self.next_at = self.written * 2
        qn = connection.ops.quote_name
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(qn(t) for t in self.tables)}")  # model table names, quoted
        logger.info(
            "analyzed %s after %s lines in %.2fs", ", ".join(self.tables), self.written, time.monotonic() - started
        )


def _flush(transfer: FileTransfer, kind, pending: list, offset: int, prepared=None, attempts: int = 4) -> None:
    if not pending:
        return
    lines = [(n, text, rec) for n, text, rec in pending if rec is not None]
    accepted = [(n, rec) for n, _, rec in lines if not isinstance(rec, Rejection)]
    for attempt in range(1, attempts + 1):
        done = FileTransfer.objects.filter(pk=transfer.pk, claim=transfer.claim, lines_done__gte=pending[-1][0])
        if attempt > 1 and done.exists():
            return  # the failed attempt did commit (its connection died before the answer came back)
        try:
            with transaction.atomic():
                _relaxed_commit()
                outcomes = kind.apply([rec for _, rec in accepted], prepared) if accepted else []
                _record(
                    transfer,
                    lines,
                    dict(zip([n for n, _ in accepted], outcomes, strict=True)),
                    last_line=pending[-1][0],
                    offset=offset,
                )
            return
        except (IntegrityError, OperationalError):
            # another import touched the same rows at the same moment (e.g. one WhatsApp number):
            # this batch is re-applied on top of what the other one committed.
            if attempt == attempts:
                raise
            logger.warning(
                "file transfer %s: batch ending at line %s conflicted, retrying", transfer.pk, pending[-1][0]
            )
            time.sleep(0.05 * attempt)


def _relaxed_commit() -> None:
    """A batch's effects and its checkpoint commit together, so a batch lost in a crash is redone
    on resume: the commit need not wait for the disk flush (PostgreSQL synchronous_commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record(transfer, lines, outcomes, *, last_line: int, offset: int) -> None:
    counts = _Counts()
    rejected = []
    for number, text, record in lines:
        counts.read += 1
        result = record if isinstance(record, Rejection) else outcomes[number]
        if isinstance(result, Rejection):
            counts.rejected += 1
            rejected.append(RejectedLine(file_transfer=transfer, line_no=number, raw=text[:4000], reason=result.reason))
        elif result == CREATED:
            counts.created += 1
        elif result == UPDATED:
            counts.updated += 1
        elif result == UNCHANGED:
            counts.unchanged += 1
    insert_objects(rejected)
    owned = FileTransfer.objects.filter(pk=transfer.pk, claim=transfer.claim).update(
        heartbeat_at=timezone.now(),
        read_count=F("read_count") + counts.read,
        created_count=F("created_count") + counts.created,
        updated_count=F("updated_count") + counts.updated,
        unchanged_count=F("unchanged_count") + counts.unchanged,
        rejected_count=F("rejected_count") + counts.rejected,
        lines_done=last_line,
        bytes_done=offset,
        runs_without_progress=1,  # this run, at the new checkpoint
    )
    if owned != 1:
        raise ClaimLost()  # rolls this batch back: the worker that took over applies it
