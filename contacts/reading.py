"""File Transfers, the reading side: an upload's bytes to batches of parsed lines.

Pure reading and parsing, no ORM writes: lines are read with a length limit, decoded in the
file's encoding (chosen at upload or detected here), refused when hostile (too long, NUL, not in
the encoding) and parsed by the transfer kind; `parsed_batches` yields them a batch at a time and
`in_child_process` runs it in a forked process. contacts.imports writes what it yields. Reasons are
worded in the active language (the worker's is settings.LANGUAGE_CODE; a forked child keeps it)."""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import logging
import os
import pickle
import signal
import traceback

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy

from contacts.models import FileEncoding
from contacts.parsers import Rejection, detect_encoding, is_utf8, is_utf8_line, mostly_utf8
from contacts.transfers import DEFERRED, Prepared

logger = logging.getLogger(__name__)

PIPE_BYTES = 1 << 20  # the parser process's pipe: a batch of pickled lines (Linux allows up to 1 MiB unprivileged)
CHUNK = 1 << 20
SHOWN_BYTES = 16 << 10  # of a line rejected before decoding, what the report shows (it keeps 4000 characters)
NUL_REASON = gettext_lazy(
    "the line contains a NUL character (byte 0), which cannot be stored: remove it "
    "(a file saved as UTF-16 has one in every line: save it as UTF-8)"
)
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1254": "Windows-1254"}


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


def file_encoding(path: str, chosen: str, *, max_line: int) -> str:
    """The codec to read the file with: the one `chosen` at upload (a FileEncoding), or for AUTO
    the one detected from the file."""
    if chosen != FileEncoding.AUTO:
        with open(path, "rb") as fh:
            head = fh.read(3)
        return "utf-8-sig" if chosen == FileEncoding.UTF8 and head == b"\xef\xbb\xbf" else chosen
    with open(path, "rb") as fh:
        head = fh.read(CHUNK)
        fh.seek(0)
        if is_utf8(iter(lambda: fh.read(CHUNK), b"")):
            return detect_encoding(head, rest_is_utf8=True)
        # Not UTF-8 throughout: UTF-8 with a few lines in another encoding, or Windows-1254
        # (decided by its lines; either way the lines of the other encoding are rejected)
        fh.seek(0)
        lines = (raw for _, raw, _ in _lines(fh, max_line))
        utf8 = mostly_utf8(lines)
        return ("utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8") if utf8 else "cp1254"


def parsed_batches(
    kind, path: str, encoding: str, resume_after: int, *, max_line: int, detected: bool, batch_lines: int
):
    """Read, decode and parse the file after line `resume_after`: yields ("batch", lines, byte
    offset, what kind.prepare made of the batch's accepted records) every `batch_lines` lines and at
    the end, or ("fail", message) when the file is refused. Pure of the database, so it can run in
    its own process while contacts.imports writes.

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
                refused = gettext(
                    "the line is %(size)s bytes long; lines longer than %(max)s bytes are not read (the rest of "
                    "it was skipped)"
                ) % {"size": _grouped(offset - start), "max": _grouped(max_line)}
            elif b"\x00" in raw:
                refused = str(NUL_REASON)
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
                            yield "fail", _on_line(number, problem.reason)
                            return
                        if number > resume_after:
                            pending.append((number, "", None))
                        continue
                if number <= resume_after:
                    continue
                pending.append((number, text, kind.parse(text)))
            if len(pending) >= batch_lines:
                yield _batch(kind, pending, offset)
                pending = []
    if not header_seen and kind.has_header:
        missing = gettext("the header row (exid, email, msisdn, wpNumber, permission) is missing")
        if first_refused:
            first = _on_line(*first_refused)
            yield (
                "fail",
                gettext("%(missing)s: no line could be read (%(first)s)") % {"missing": missing, "first": first},
            )
        else:
            yield "fail", gettext("the file is empty: %(missing)s") % {"missing": missing}
        return
    yield _batch(kind, pending, last_offset)


def _not_in_encoding(raw: bytes, encoding: str, detected: bool) -> str:
    """Why a line of a UTF-8 file is not UTF-8, or why one of a Windows-1254 file is refused."""
    named = {"name": ENCODING_NAMES.get(encoding, encoding.upper())}
    if encoding != "cp1254":
        if detected:
            return (
                gettext("the line is not valid %(name)s (the rest of the file is): save the file in one encoding")
                % named
            )
        return gettext("the line is not valid %(name)s text; choose the file's encoding when uploading") % named
    if not is_utf8_line(raw):
        return gettext("the line is neither %(name)s nor UTF-8 text: save the file in one of them") % named
    if detected:
        return (
            gettext("the line is in UTF-8 while the rest of the file is in %(name)s: save the file in one encoding")
            % named
        )
    return (
        gettext(
            "the line is in UTF-8, not %(name)s as chosen: choose UTF-8 when uploading, or save the file in one "
            "encoding"
        )
        % named
    )


def _grouped(n: int) -> str:
    """A byte count with the active language's thousands separator (1,048,577 or 1.048.577)."""
    return number_format(n, force_grouping=True)


def _on_line(number: int, reason: str) -> str:
    """A whole-file failure that one line explains: 'line 3: <reason>'."""
    return gettext("line %(number)s: %(reason)s") % {"number": number, "reason": reason}


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


def in_child_process(produce, transfer_id: int):
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
