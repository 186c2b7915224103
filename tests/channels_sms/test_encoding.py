"""providers.md §7: encodings, segment capacities and the Infobip preview vector."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels_sms.encoding import (
    GSM7,
    GSM7_TR_LOCKING,
    GSM7_TR_SINGLE,
    LATIN5,
    UCS2,
    count_segments,
    sender_problem,
)
from messaging.rendering import render, variables

VECTOR = "Mesaj gönderimi yapmadan önce önizleme seçeneğini kullanmanız doğru karar vermenize yardımcı olur."


def test_infobip_preview_vector_without_and_with_turkish_tables():
    assert len(VECTOR) == 98
    plain = count_segments(VECTOR, profile="gsm")
    assert (plain.encoding, plain.segments, plain.remaining) == (UCS2, 2, 36)
    turkish = count_segments(VECTOR, profile="nli")
    assert (turkish.encoding, turkish.segments, turkish.remaining) == (GSM7_TR_LOCKING, 1, 57)


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, GSM7, 1),
        ("a" * 161, GSM7, 2),
        ("a" * 306, GSM7, 2),
        ("a" * 307, GSM7, 3),
        ("€" * 80, GSM7, 1),  # extension characters cost two septets
        ("€" * 81, GSM7, 2),
        ("Çöü" * 10, GSM7, 1),  # Ç ö Ü are in the default table
        ("ı" * 155, GSM7_TR_LOCKING, 1),
        ("ı" * 156, GSM7_TR_LOCKING, 2),
        ("ı" * 298, GSM7_TR_LOCKING, 2),
        ("ı" * 299, GSM7_TR_LOCKING, 3),
        ("è ş", GSM7_TR_SINGLE, 1),  # è is not in the locking table, so only the single shift fits
        ("ж" * 70, UCS2, 1),
        ("ж" * 71, UCS2, 2),
        ("😀" * 35, UCS2, 1),  # an emoji is two UTF-16 units
        ("😀" * 36, UCS2, 2),
    ],
)
def test_capacities(text, encoding, segments):
    result = count_segments(text)
    assert (result.encoding, result.segments) == (encoding, segments)


def test_an_escape_pair_is_never_split_across_parts():
    text = "a" * 152 + "€" + "a" * 10  # the € would straddle the end of part one
    result = count_segments(text)
    assert result.units == 164 and result.segments == 2
    assert result.remaining == 153 - 12  # part two holds € (2) + 10


def test_latin5_counts_turkish_letters_as_one_character():
    result = count_segments("ş" * 160, profile="latin5")
    assert (result.encoding, result.segments) == (LATIN5, 1)
    assert count_segments("ж", profile="latin5").encoding == UCS2


def test_look_alike_spaces_are_normalised_before_counting():
    assert count_segments("a\u00a0b").encoding == GSM7


@given(st.text(max_size=600), st.sampled_from(["nli", "gsm", "latin5"]))
def test_any_text_gets_a_consistent_count(text, profile):
    result = count_segments(text, profile=profile)
    if text:
        assert result.segments >= 1
        assert result.units <= result.segments * result.per_segment or result.segments == 1
        assert 0 <= result.remaining <= result.per_segment
    else:
        assert result.segments == 0


@pytest.mark.parametrize(
    ("sender", "ok"),
    [
        ("MARKA", True),
        ("Marka 2025", True),
        ("905321234567", True),
        ("ABCDEFGHIJKL", False),
        ("", False),
        ("MARKAŞ", False),
        ("12345-678", False),
    ],
)
def test_sender_name_rules(sender, ok):
    assert (sender_problem(sender) == "") is ok


def test_variables_take_contact_fields_attributes_and_defaults():
    text = "Merhaba {{name|Müşterimiz}}, {{ city }} mağazamız {{code}}"
    assert variables(text) == ["name", "city", "code"]
    rendered, missing = render(text, {"city": "İzmir"})
    assert rendered == "Merhaba Müşterimiz, İzmir mağazamız "
    assert missing == ["code"]
