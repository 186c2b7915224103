"""Property tests: no input crashes a line parser; every line is accepted or rejected with a reason."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from consent.parsers import IysLine, parse_email_iys_line, parse_sms_iys_line
from contacts.parsers import (
    Rejection,
    UserLine,
    WhatsAppLine,
    parse_user_line,
    parse_whatsapp_header,
    parse_whatsapp_line,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
field = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["905331234562", "ONAY", "RET", "SMS", "15.05.2025 14:23:00", "user@example.com", "1", "2", "+905331234562", ""]
    ),
)
line = st.one_of(
    st.text(max_size=200),
    st.lists(field, max_size=7).map(lambda f: ";".join(f)),
    st.lists(field, max_size=7).map(lambda f: ",".join(f)),
)


def accepted_or_reasoned(result, record_type):
    assert isinstance(result, (record_type, Rejection))
    if isinstance(result, Rejection):
        assert result.reason.strip()


@settings(max_examples=400, deadline=None)
@given(line)
def test_sms_iys_parser_never_crashes(text):
    result = parse_sms_iys_line(text, now=NOW)
    accepted_or_reasoned(result, IysLine)
    if isinstance(result, IysLine):
        assert result.recipient.startswith("+") and result.status in ("ONAY", "RET")
        assert result.consent_date <= NOW


@settings(max_examples=300, deadline=None)
@given(line)
def test_email_iys_parser_never_crashes(text):
    accepted_or_reasoned(parse_email_iys_line(text, now=NOW), IysLine)


@settings(max_examples=300, deadline=None)
@given(line)
def test_user_parser_never_crashes(text):
    result = parse_user_line(text)
    accepted_or_reasoned(result, UserLine)
    if isinstance(result, UserLine):
        assert result.phone.startswith("+")


@settings(max_examples=300, deadline=None)
@given(line)
def test_whatsapp_parser_never_crashes(text):
    header = parse_whatsapp_header("exid,email,msisdn,wpNumber,permission")
    result = parse_whatsapp_line(text, header)
    accepted_or_reasoned(result, WhatsAppLine)
    if isinstance(result, WhatsAppLine):
        assert result.wp_number.startswith("+")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=100))
def test_whatsapp_header_parser_never_crashes(text):
    parse_whatsapp_header(text)


@given(st.sampled_from(["ONAY", "RET"]), st.integers(min_value=1, max_value=28), st.integers(min_value=1, max_value=12))
def test_valid_sms_lines_are_always_accepted(status, day, month):
    text = f"905331234562; SMS; {status}; {day:02d}.{month:02d}.2025 10:00:00; u1"
    result = parse_sms_iys_line(text, now=NOW)
    assert isinstance(result, IysLine) and result.status == status


@settings(max_examples=2000, deadline=None)
@given(st.from_regex(r"90[0-9]{10}", fullmatch=True) | st.from_regex(r"905[0-9]{9}", fullmatch=True))
def test_turkish_fast_path_agrees_with_phonenumbers(digits):
    import phonenumbers

    from contacts.parsers import parse_msisdn

    ours = parse_msisdn(digits, what="phone", allow_plus=False)
    theirs = phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
    assert (not isinstance(ours, Rejection)) == theirs
