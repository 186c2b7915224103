"""Fuzz of every upload kind through the real import path (file_transfer_create + file_transfer_run):
whatever the lines hold (NUL, control characters, separators, huge fields, invalid UTF-8, mixed
encodings, formulas), the transfer ends done or failed with a reason (never stuck), its counts add
up, nothing unstorable is stored, and no consent (İYS or WhatsApp) comes from a line the import
rejected."""

import io
import itertools

import pytest
from django.core.files import File
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.models import ConsentChange
from consent.parsers import IysLine, parse_email_iys_line, parse_sms_iys_line
from contacts.imports import file_transfer_create, file_transfer_run
from contacts.models import Contact, FileTransferStatus, RejectedLine
from contacts.parsers import WhatsAppHeader, WhatsAppLine, parse_whatsapp_header, parse_whatsapp_line
from tests.services import require_postgres

pytestmark = pytest.mark.django_db

MAX_LINE = 4096  # FILE_TRANSFER_MAX_LINE_BYTES for the fuzz: over-long lines stay cheap to make
PHONES = ["905331234561", "905331234562", "+905331234563", "905551112233", "05331234561"]
EMAILS = ["a@example.com", "B@Example.com", "c@example.org", "ş@örnek.com"]
hostile = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),  # control characters and NUL included
    st.text(st.sampled_from(list(";,\t\r\x00=+-@\"'\ufeff\u00a0şİı\u2028")), max_size=8),
    st.integers(min_value=150, max_value=6000).map(lambda n: "9" * n),  # huge fields, over-long lines
)


def slot(values):
    return st.one_of(st.sampled_from(values), hostile)


IYS_TAIL = [
    slot(["SMS", "web", "HS_2015", "HS_KARAR", "EMAIL"]),
    slot(["ONAY", "RET", "onay"]),
    slot(["15.05.2025 14:23:00", "01.05.2015 00:00:00", "31.02.2025 10:00:00", "15.05.2099 10:00:00"]),
    slot(["u1", "u2", "", "Çağrı"]),
]
FIELDS = {
    "sms-iys": ("; ", [slot(PHONES), *IYS_TAIL]),
    "email-iys": ("; ", [slot(EMAILS), *IYS_TAIL]),
    "users": (",", [slot(PHONES), slot(["u1", "u2", "", "Çağrı"])]),
    "whatsapp": (
        ",",
        [slot(["u1", "u3", ""]), slot(["", *EMAILS]), slot(["", *PHONES]), slot(PHONES), slot(["1", "2"])],
    ),
}
PARSERS = {"sms-iys": parse_sms_iys_line, "email-iys": parse_email_iys_line}


def text_line(kind):
    sep, slots = FIELDS[kind]
    return st.tuples(*slots).map(sep.join)


def encoded(kind):
    return st.one_of(
        st.tuples(text_line(kind), st.sampled_from(["utf-8", "utf-8", "cp1254"])).map(
            lambda t: t[0].encode(t[1], errors="replace")
        ),
        st.binary(max_size=60),  # invalid UTF-8, NUL, stray line ends
        st.just(b""),
    )


@st.composite
def upload(draw, kind):
    lines = draw(st.lists(encoded(kind), max_size=25))
    if kind == "whatsapp" and draw(st.booleans()):
        lines.insert(0, draw(st.sampled_from([b"exid,email,msisdn,wpNumber,permission", b"wpNumber;permission"])))
    body = draw(st.sampled_from([b"\n", b"\r\n"])).join(lines) + draw(st.sampled_from([b"", b"\n"]))
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + body


names = itertools.count()


def check(kind, body):
    transfer = file_transfer_create(
        name=f"fuzz {next(names)}", kind=kind, upload=File(io.BytesIO(body), name="fuzz.txt"), enqueue=False
    )
    transfer = file_transfer_run(transfer_id=transfer.pk)  # no exception, whatever the file holds

    assert transfer.status in (FileTransferStatus.DONE, FileTransferStatus.FAILED), transfer.status
    assert transfer.claim is None
    if transfer.status == FileTransferStatus.FAILED:
        assert transfer.error.strip()
        # a refusal of the file, never a batch the database refused or a run that kept dying
        assert "could not be saved" not in transfer.error and "times at line" not in transfer.error
    read, created, updated, unchanged, rejected = (
        getattr(transfer, f"{k}_count") for k in ("read", "created", "updated", "unchanged", "rejected")
    )
    assert read == created + updated + unchanged + rejected
    stored = list(RejectedLine.objects.filter(file_transfer=transfer).values_list("line_no", "raw", "reason"))
    assert len(stored) == rejected
    assert all("\x00" not in raw and reason.strip() and "\x00" not in reason for _, raw, reason in stored)
    assert "\x00" not in transfer.error
    assert not any(
        "\x00" in (value or "")
        for row in Contact.objects.values_list("external_id", "email", "phone", "whatsapp_number")
        for value in row
    )

    changes = set(ConsentChange.objects.filter(file_transfer=transfer).values_list("recipient", flat=True))
    if kind == "users":
        assert not changes
        return
    if transfer.status == FileTransferStatus.FAILED:
        assert not changes
    refused = {line_no for line_no, _, _ in stored}
    encoding = transfer.detected_encoding or "utf-8"
    accepted = set()
    header = None
    for number, raw in enumerate(body.split(b"\n"), start=1):
        if number in refused:
            continue
        text = raw.rstrip(b"\r").decode(encoding, errors="replace").lstrip("\ufeff")
        if kind == "whatsapp":  # the first line read is the header; the others parse by it
            if header is None and text.strip():
                header = parse_whatsapp_header(text)
            elif isinstance(header, WhatsAppHeader) and text.strip():
                record = parse_whatsapp_line(text, header)
                if isinstance(record, WhatsAppLine):
                    accepted.add(record.wp_number)
            continue
        record = PARSERS[kind](text, now=timezone.now())
        if isinstance(record, IysLine):
            accepted.add(record.recipient)
    assert changes <= accepted, f"consents from rejected lines: {changes - accepted}"


def fuzz(kind, settings, in_child):
    settings.FILE_TRANSFER_MAX_LINE_BYTES = MAX_LINE
    if in_child:  # big files on PostgreSQL: parsed in a forked process
        require_postgres()
        settings.FILE_TRANSFER_PARSE_PROCESS_BYTES = 0

    @hypothesis_settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(upload(kind))
    def run(body):
        check(kind, body)

    run()


@pytest.mark.parametrize("kind", ["users", "sms-iys", "email-iys", "whatsapp"])
def test_any_upload_ends_done_or_failed_with_counts_that_add_up(kind, settings):
    fuzz(kind, settings, in_child=False)


@pytest.mark.services
@pytest.mark.parametrize("kind", ["users", "sms-iys", "email-iys", "whatsapp"])
def test_any_upload_parsed_in_the_child_process_ends_the_same_way(kind, settings):
    fuzz(kind, settings, in_child=True)


def test_every_configured_kind_is_fuzzed(settings):
    assert set(settings.FILE_TRANSFER_KINDS) == set(FIELDS)
    assert connection.vendor in ("sqlite", "postgresql")
