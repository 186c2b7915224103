"""File Transfers: create, then process line by line in batches (product.md File transfers).

Each batch commits its effects, its rejected lines, the counts and the checkpoint
(`lines_done`) in one transaction, so a worker killed mid-file resumes where it stopped and
applies nothing twice; accepted lines land whatever the other lines hold."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import pickle
import signal
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, reset_queries, transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts.bulk import insert_objects
from contacts.models import FileEncoding, FileTransfer, FileTransferStatus, RejectedLine
from contacts.parsers import Rejection, detect_encoding, is_utf8
from contacts.transfers import CREATED, DEFERRED, UNCHANGED, UPDATED, Prepared, transfer_kind

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".txt", ".csv")
BATCH_LINES = 5000
PIPE_BYTES = 1 << 20  # the parser process's pipe: a batch of pickled lines (Linux allows up to 1 MiB unprivileged)
CHUNK = 1 << 20


def check_extension(filename: str) -> None:
    ext = os.path.splitext(filename)[1].lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            f"'{filename}' cannot be imported: only .txt and .csv files are accepted"
            + (f" (this one is {ext})" if ext else " (this one has no extension)")
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


def _lines(fh):
    """(line number, raw bytes without the line end, byte offset after it) for every line."""
    offset = 0
    for number, raw in enumerate(fh, start=1):
        offset += len(raw)
        yield number, raw.rstrip(b"\r\n"), offset


def _encoding(transfer: FileTransfer, path: str) -> str:
    if transfer.encoding != FileEncoding.AUTO:
        with open(path, "rb") as fh:
            head = fh.read(3)
        return "utf-8-sig" if transfer.encoding == FileEncoding.UTF8 and head == b"\xef\xbb\xbf" else transfer.encoding
    with open(path, "rb") as fh:
        head = fh.read(CHUNK)
        fh.seek(0)
        return detect_encoding(head, rest_is_utf8=is_utf8(iter(lambda: fh.read(CHUNK), b"")))


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
    ).update(claim=token, heartbeat_at=timezone.now())
    return token if owned == 1 else None


def _fail(transfer_id: int, message: str) -> None:
    FileTransfer.objects.filter(pk=transfer_id).update(
        status=FileTransferStatus.FAILED, error=message, finished_at=timezone.now(), claim=None
    )


def file_transfer_run(*, transfer_id: int) -> FileTransfer:
    """Process (or resume) a transfer. Safe to run again: a finished one is left as it is, and one
    that another live worker is processing is left to it."""
    token = _claim(transfer_id)
    transfer = FileTransfer.objects.get(pk=transfer_id)
    if token is None:
        return transfer
    transfer.claim = token
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
        _fail(transfer.pk, "the uploaded file is no longer on the server; upload it again")
        return FileTransfer.objects.get(pk=transfer.pk)
    encoding = _encoding(transfer, path)
    FileTransfer.objects.filter(pk=transfer.pk).update(
        status=FileTransferStatus.PROCESSING,
        detected_encoding=encoding.replace("-sig", ""),
        size_bytes=size,
        started_at=transfer.started_at or timezone.now(),
    )
    kind = transfer_kind(transfer)
    started = time.monotonic()
    produce = functools.partial(_parsed_batches, kind, path, encoding, transfer.lines_done)
    in_child = connection.vendor == "postgresql" and size >= settings.FILE_TRANSFER_PARSE_PROCESS_BYTES
    statistics = _FreshStatistics(kind.grown_models())
    with contextlib.closing(_in_child_process(produce) if in_child else produce()) as items:
        for item in items:
            if item[0] == "fail":
                _fail(transfer.pk, item[1])
                return FileTransfer.objects.get(pk=transfer.pk)
            _, pending, offset, prepared = item
            _flush(transfer, kind, pending, offset, prepared)
            statistics.lines_written(len(pending))
            if settings.DEBUG:  # Django keeps every statement's SQL in DEBUG: a batch's runs to megabytes
                reset_queries()
    transfer = FileTransfer.objects.get(pk=transfer.pk)
    if transfer.read_count == 0:
        _fail(transfer.pk, "the file has no lines to import")
    elif transfer.rejected_count == transfer.read_count:
        _fail(transfer.pk, f"no valid line: all {transfer.read_count} lines were rejected; see the report")
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


def _parsed_batches(kind, path: str, encoding: str, resume_after: int):
    """Read, decode and parse the file after line `resume_after`: yields ("batch", lines, byte
    offset, what kind.prepare made of the batch's accepted records) every BATCH_LINES lines and at
    the end, or ("fail", message) when the file is refused. Pure of the database, so it can run in
    its own process while this one writes."""
    header_seen = not kind.has_header and not kind.optional_header
    pending: list[tuple[int, str, object]] = []
    last_offset = 0
    with open(path, "rb") as fh:
        for number, raw, offset in _lines(fh):
            last_offset = offset
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                text = None
            if text is not None and number == 1:
                text = text.lstrip("\ufeff")
            if text is not None and not text.strip():
                if number <= resume_after:
                    continue
                pending.append((number, "", None))  # blank: skipped, not counted
                continue
            if not header_seen and text is not None:
                header_seen = True
                if kind.is_header(text):
                    problem = kind.header(text)
                    if problem is not None:
                        yield "fail", f"line {number}: {problem.reason}"
                        return
                    if number > resume_after:
                        pending.append((number, "", None))
                    continue
            if number <= resume_after:
                continue
            if text is None:
                record = Rejection(
                    f"the line is not valid {encoding.replace('-sig', '').upper()} text; "
                    "choose the file's encoding when uploading"
                )
                text = raw.decode(encoding, errors="replace")
            else:
                record = kind.parse(text)
            pending.append((number, text, record))
            if len(pending) >= BATCH_LINES:
                yield _batch(kind, pending, offset)
                pending = []
    if not header_seen and kind.has_header:
        yield "fail", "the file is empty: the header row (exid, email, msisdn, wpNumber, permission) is missing"
        return
    yield _batch(kind, pending, last_offset)


def _batch(kind, pending: list, offset: int) -> tuple:
    """A batch item: the kind prepares its accepted records (what kind.apply will receive), and the
    records it can rebuild from what it prepared are replaced by DEFERRED."""
    accepted = [i for i, (_, _, rec) in enumerate(pending) if rec is not None and not isinstance(rec, Rejection)]
    prepared = kind.prepare([pending[i][2] for i in accepted])
    if isinstance(prepared, Prepared):
        for position in prepared.deferred:
            number, text, _ = pending[accepted[position]]
            pending[accepted[position]] = (number, text, DEFERRED)
    return "batch", pending, offset, prepared


def _in_child_process(produce):
    """Run the generator `produce` in a forked process and yield its items here: parsing a big
    file takes one core while this process and PostgreSQL write on the other. Items travel
    pickled through a pipe, whose buffer holds the child back when the writer falls behind. The
    child touches no database and leaves with os._exit (nothing of the parent's is closed)."""
    read_fd, write_fd = os.pipe()
    with contextlib.suppress(AttributeError, OSError):  # Linux: room for a whole batch (64 KiB by default),
        # so the child parses the next batch instead of waiting for this process to read the last one
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_fd)
            with os.fdopen(write_fd, "wb", buffering=1 << 20) as out:
                for item in produce():
                    pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()
            code = 0
        except BaseException:  # reported, then the parent sees the exit code
            # straight to fd 2: sys.stderr's lock may have been held by another thread at the fork
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
        finally:
            os._exit(code)
    os.close(write_fd)
    finished = False
    try:
        with os.fdopen(read_fd, "rb", buffering=1 << 20) as inp:
            while True:
                try:
                    item = pickle.load(inp)  # noqa: S301 - our own child, through our own pipe
                except EOFError:
                    break
                yield item
        finished = True
    finally:
        if not finished:
            os.kill(pid, signal.SIGKILL)  # the writer stopped early (an error, the claim lost)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the file's parser process failed (see the worker's log); the import resumes on retry")


def _flush(transfer: FileTransfer, kind, pending: list, offset: int, prepared=None, attempts: int = 4) -> None:
    if not pending:
        return
    lines = [(n, text, rec) for n, text, rec in pending if rec is not None]
    accepted = [(n, rec) for n, _, rec in lines if not isinstance(rec, Rejection)]
    for attempt in range(1, attempts + 1):
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
    )
    if owned != 1:
        raise ClaimLost()  # rolls this batch back: the worker that took over applies it
