"""The batch helpers every hot path uses: `field__any_of` (an array literal on PostgreSQL) and
`update_rows` (one JSON recordset on PostgreSQL). Values must come back exactly as they went in,
whatever characters they hold."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from config.db import pg_array_literal
from contacts.bulk import insert_rows, new_row, update_rows
from contacts.models import Contact
from tests.contacts.factories import ContactFactory
from tests.services import require_postgres

TRICKY = ['a"b', "back\\slash", "com,ma", "{brace}", "NULL", " spaced ", 'İş "yeri" ş', "", "'quote'", 'x\\"y']
# PostgreSQL text cannot hold NUL; everything else must survive
texts = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)


@pytest.mark.django_db
def test_any_of_finds_exactly_the_given_values_whatever_they_hold():
    contacts = [ContactFactory(external_id=value or None) for value in TRICKY]
    ContactFactory(external_id="other")
    found = set(Contact.objects.filter(external_id__any_of=TRICKY).values_list("pk", flat=True))
    assert found == {c.pk for c in contacts if c.external_id}
    ids = [c.pk for c in contacts[:3]]
    assert sorted(Contact.objects.filter(pk__any_of=ids).values_list("pk", flat=True)) == sorted(ids)
    assert not Contact.objects.filter(pk__any_of=[]).exists()


@pytest.mark.django_db
@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), texts), max_size=20))
def test_array_literal_reads_back_as_the_same_list(values):
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [pg_array_literal(values)])
        assert cursor.fetchone()[0] == values


@pytest.mark.django_db
@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=20))
def test_int_array_literal_reads_back_as_the_same_list(values):
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[]", [pg_array_literal(values)])
        assert cursor.fetchone()[0] == values


def test_array_literal_leaves_other_types_to_the_driver():
    assert pg_array_literal([1, "a"]) is None
    assert pg_array_literal([datetime(2025, 1, 1, tzinfo=UTC)]) is None
    assert pg_array_literal([True]) is None  # a bool is not an id


@pytest.mark.django_db
def test_update_rows_writes_each_value_back_exactly():
    first, second = ContactFactory(), ContactFactory()
    when = datetime(2025, 5, 15, 11, 23, 0, 123456, tzinfo=UTC)
    rows = [
        {
            "id": first.pk,
            "attributes": {"name": 'Ayşe "A"', "nested": {"n": [1, 2.5, None, True]}, "quote": "it's\\"},
            "whatsapp_consent_source": 'file.csv (İş; "x")',
            "whatsapp_consent_at": when,
        },
        {"id": second.pk, "attributes": {}, "whatsapp_consent_source": "", "whatsapp_consent_at": None},
    ]
    fields = ["attributes", "whatsapp_consent_source", "whatsapp_consent_at"]
    assert update_rows(Contact, rows, fields) == 2
    for row in rows:
        stored = Contact.objects.values(*fields).get(pk=row["id"])
        assert stored == {f: row[f] for f in fields}


@pytest.mark.django_db
@settings(max_examples=50, deadline=None)
@given(source=texts, name=texts)
def test_update_rows_round_trips_any_text(source, name):
    contact = ContactFactory()
    update_rows(
        Contact,
        [{"id": contact.pk, "whatsapp_consent_source": source, "attributes": {"name": name}}],
        ["whatsapp_consent_source", "attributes"],
    )
    contact.refresh_from_db()
    assert (contact.whatsapp_consent_source, contact.attributes) == (source, {"name": name})


@pytest.mark.django_db
@settings(max_examples=100, deadline=None)
@given(text=texts, name=texts, external_id=st.one_of(st.none(), st.text(alphabet="ab\t\n\r\\ \"';,{}N", max_size=12)))
def test_insert_rows_writes_each_value_exactly(text, name, external_id):
    """COPY's text format is written by hand on PostgreSQL: tabs, newlines, backslashes, NULL."""
    Contact.objects.filter(external_id=external_id).delete()
    when = datetime(2025, 5, 15, 11, 23, 0, 123456, tzinfo=UTC)
    [pk] = insert_rows(
        Contact,
        [
            new_row(
                Contact,
                when,
                external_id=external_id,
                whatsapp_consent_source=text,
                attributes={"name": name, "n": [1, None, True, 2.5]},
                whatsapp_consent_at=when,
            )
        ],
    )
    stored = Contact.objects.get(pk=pk)
    assert (stored.external_id, stored.whatsapp_consent_source, stored.attributes) == (
        external_id,
        text,
        {"name": name, "n": [1, None, True, 2.5]},
    )
    assert stored.whatsapp_consent_at == when and stored.email is None
