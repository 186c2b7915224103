"""File Transfers: create, then process line by line in batches (product.md File transfers).

Each batch commits its effects, its rejected lines, the counts and the checkpoint
(`lines_done`) in one transaction, so a worker killed mid-file resumes where it stopped and
applies nothing twice; accepted lines land whatever the other lines hold."""

from __future__ import annotations

import codecs
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

from contacts.bulk import insert_objects
from contacts.models import FileEncoding, FileTransfer, FileTransferStatus, RejectedLine
from contacts.parsers import Rejection, detect_encoding, is_utf8, is_utf8_line, mostly_utf8
from contacts.transfers import CREATED, DEFERRED, UNCHANGED, UPDATED, Prepared, transfer_kind

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".txt", ".csv")
BATCH_LINES = 5000
PIPE_BYTES = 1 << 20  # the parser process's pipe: a batch of pickled lines (Linux allows up to 1 MiB unprivileged)
CHUNK = 1 << 20
# A transfer is failed, not queued again, when this many runs in a row stopped before committing a batch
MAX_RUNS_WITHOUT_PROGRESS = 3
SHOWN_BYTES = 16 << 10  # of a line rejected before decoding, what the report shows (it keeps 4000 characters)
NUL_REASON = (
    "the line contains a NUL character (byte 0), which cannot be stored: remove it "
    "(a file saved as UTF-16 has one in every line: save it as UTF-8)"
)
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1254": "Windows-1254"}


def _size(n: float) -> str:
    if n < 1024:
        return f"{int(n):,} bytes"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            return f"{n:,.1f} {unit}"
    raise AssertionError("unreachable")


def check_size(size: int) -> None:
    """An upload above FILE_TRANSFER_MAX_UPLOAD_BYTES is refused (the form, import_file and the service)."""
    limit = settings.FILE_TRANSFER_MAX_UPLOAD_BYTES
    if size > limit:
        raise ValidationError(
            f"the file is {_size(size)}; files of at most {_size(limit)} can be uploaded: split it into smaller files"
        )


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


def _lines(fh, limit: int):
    """(line number, raw bytes without the line end, byte offset after it) for every line. A line
    longer than `limit` bytes comes as its first limit + 1 bytes (so len(raw) > limit tells it); the
    rest of it is skipped a chunk at a time, never held whole."""
    readline = fh.readline
    number = offset = 0
    while raw := readline(limit + 1):
        number += 1
        offset += len(raw)
        if len(raw) > limit and not raw.endswith(b"\n"):
            while rest := readline(CHUNK):
                offset += len(rest)
                if rest.endswith(b"\n"):
                    break
            yield number, raw, offset
        else:
            yield number, raw.rstrip(b"\r\n"), offset


def _encoding(transfer: FileTransfer, path: str) -> str:
    if transfer.encoding != FileEncoding.AUTO:
        with open(path, "rb") as fh:
            head = fh.read(3)
        return "utf-8-sig" if transfer.encoding == FileEncoding.UTF8 and head == b"\xef\xbb\xbf" else transfer.encoding
    with open(path, "rb") as fh:
        head = fh.read(CHUNK)
        fh.seek(0)
        if is_utf8(iter(lambda: fh.read(CHUNK), b"")):
            return detect_encoding(head, rest_is_utf8=True)
        # Not UTF-8 throughout: UTF-8 with a few lines in another encoding, or Windows-1254
        # (decided by its lines; either way the lines of the other encoding are rejected)
        fh.seek(0)
        lines = (raw for _, raw, _ in _lines(fh, settings.FILE_TRANSFER_MAX_LINE_BYTES))
        utf8 = mostly_utf8(lines)
        return ("utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8") if utf8 else "cp1254"


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
    imported = f"lines 1–{done} were imported" if done else "no line was imported"
    return (
        f"the import stopped {MAX_RUNS_WITHOUT_PROGRESS} times at line {done + 1} without getting further "
        f"(the worker processing it failed or was stopped each time; its log says why); {imported}. "
        f"Check the lines from {done + 1} on and upload them again, or report this transfer (id {transfer.pk})."
    )


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
    produce = functools.partial(
        _parsed_batches,
        kind,
        path,
        encoding,
        transfer.lines_done,
        max_line=settings.FILE_TRANSFER_MAX_LINE_BYTES,
        detected=transfer.encoding == FileEncoding.AUTO,
    )
    in_child = connection.vendor == "postgresql" and size >= settings.FILE_TRANSFER_PARSE_PROCESS_BYTES
    statistics = _FreshStatistics(kind.grown_models())
    with contextlib.closing(_in_child_process(produce, transfer.pk) if in_child else produce()) as items:
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
                    f"the import stopped: lines {first}–{last} could not be saved ({reason}); the lines before "
                    f"them were imported. Check those lines and upload them again, or report this transfer "
                    f"(id {transfer.pk}).",
                )
                return FileTransfer.objects.get(pk=transfer.pk)
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


def _parsed_batches(kind, path: str, encoding: str, resume_after: int, *, max_line: int, detected: bool):
    """Read, decode and parse the file after line `resume_after`: yields ("batch", lines, byte
    offset, what kind.prepare made of the batch's accepted records) every BATCH_LINES lines and at
    the end, or ("fail", message) when the file is refused. Pure of the database, so it can run in
    its own process while this one writes.

    A line is rejected before any parser sees it when it is longer than `max_line` bytes, holds a
    NUL (no database text can) or is not in the file's encoding (`detected`: the encoding was found
    from the rest of the file, not chosen); such a line is never taken for the header."""
    header_seen = not kind.has_header and not kind.optional_header
    pending: list[tuple[int, str, object]] = []
    last_offset = 0
    first_refused = None
    cp1254 = encoding == "cp1254"  # where a UTF-8 line would decode silently into mojibake
    with open(path, "rb") as fh:
        for number, raw, offset in _lines(fh, max_line):
            start, last_offset = last_offset, offset
            refused = None
            if len(raw) > max_line:
                refused = (
                    f"the line is {offset - start:,} bytes long; lines longer than {max_line:,} bytes are not "
                    "read (the rest of it was skipped)"
                )
            elif b"\x00" in raw:
                refused = NUL_REASON
            else:
                try:
                    text = raw.decode(encoding)
                except UnicodeDecodeError:
                    refused = _not_in_encoding(raw, encoding, detected)
                else:
                    if cp1254 and not raw.isascii() and is_utf8_line(raw):
                        refused = _not_in_encoding(raw, encoding, detected)
            if refused is not None:
                first_refused = first_refused or (number, refused)
                if number > resume_after:
                    pending.append((number, _shown(raw, encoding), Rejection(refused)))
            else:
                if number == 1:
                    text = text.lstrip("\ufeff")
                if not text.strip():
                    if number > resume_after:
                        pending.append((number, "", None))  # blank: skipped, not counted
                    continue
                if not header_seen:
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
                pending.append((number, text, kind.parse(text)))
            if len(pending) >= BATCH_LINES:
                yield _batch(kind, pending, offset)
                pending = []
    if not header_seen and kind.has_header:
        missing = "the header row (exid, email, msisdn, wpNumber, permission) is missing"
        if first_refused:
            yield "fail", f"{missing}: no line could be read (line {first_refused[0]}: {first_refused[1]})"
        else:
            yield "fail", f"the file is empty: {missing}"
        return
    yield _batch(kind, pending, last_offset)


def _not_in_encoding(raw: bytes, encoding: str, detected: bool) -> str:
    """Why a line of a UTF-8 file is not UTF-8, or why one of a Windows-1254 file is refused."""
    name = ENCODING_NAMES.get(encoding, encoding.upper())
    if encoding != "cp1254":
        if detected:
            return f"the line is not valid {name} (the rest of the file is): save the file in one encoding"
        return f"the line is not valid {name} text; choose the file's encoding when uploading"
    if not is_utf8_line(raw):
        return f"the line is neither {name} nor UTF-8 text: save the file in one of them"
    if detected:
        return f"the line is in UTF-8 while the rest of the file is in {name}: save the file in one encoding"
    return f"the line is in UTF-8, not {name} as chosen: choose UTF-8 when uploading, or save the file in one encoding"


def _shown(raw: bytes, encoding: str) -> str:
    """A rejected line as the report shows it: in the encoding it is most likely in, without NUL."""
    head = raw[:SHOWN_BYTES]
    try:  # not final: the head of an over-long line may end inside a character
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    guess = ("utf-8" if utf8 else "cp1254") if utf8 != (encoding != "cp1254") else encoding
    return head.decode(guess, errors="replace").replace("\x00", "\N{SYMBOL FOR NULL}")


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


def _in_child_process(produce, transfer_id: int):
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
        _, status, usage = os.wait4(pid, 0)
        peak = usage.ru_maxrss * 1024  # KiB on Linux
        logger.info(
            "file transfer %s: parser process %s peaked at %.0f MiB resident",
            transfer_id,
            pid,
            peak / (1 << 20),
            extra={"peak_bytes": peak},
        )
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the file's parser process failed (see the worker's log); the import resumes on retry")


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
