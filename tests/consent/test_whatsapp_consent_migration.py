"""consent 0009: every contact's WhatsApp consent field becomes a WHATSAPP consent with one history
row saying it was migrated; the contacts keep their values; reversing removes what it wrote."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from consent.models import Consent, ConsentChange
from contacts.models import Contact
from tests.contacts.factories import ContactFactory

BEFORE = [("consent", "0008_whatsapp_consent_type")]
AFTER = [("consent", "0009_whatsapp_consent_from_contacts")]
WHEN = datetime(2024, 11, 5, 14, 30, tzinfo=ZoneInfo("Europe/Istanbul"))


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def before_migration():
    migrate(BEFORE)
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the other tests run on the latest schema


@pytest.mark.django_db(transaction=True)
def test_the_contact_fields_become_ledger_entries_and_back(before_migration):
    opted_in = ContactFactory(
        whatsapp_number="+905331230001",
        whatsapp_consent="opt_in",
        whatsapp_consent_at=WHEN,
        whatsapp_consent_source="spring.csv (Spring)",
    )
    opted_out = ContactFactory(whatsapp_number="+905331230002", whatsapp_consent="opt_out")  # no date, no source
    unknown = ContactFactory(whatsapp_number="+905331230003")
    no_number = ContactFactory(whatsapp_number=None, whatsapp_consent="opt_in", whatsapp_consent_source="old")
    touched_at = Contact.objects.get(pk=opted_out.pk).updated_at

    migrate(AFTER)

    consents = {c.recipient: c for c in Consent.objects.filter(type="WHATSAPP")}
    assert set(consents) == {"+905331230001", "+905331230002"}  # unknown and numberless: nothing to migrate
    first, second = consents["+905331230001"], consents["+905331230002"]
    assert (first.status, first.consent_date, first.source, first.contact_id) == (
        "ONAY",
        WHEN,
        "NOT_STATED",
        opted_in.pk,
    )
    assert (second.status, second.consent_date, second.contact_id) == ("RET", touched_at, opted_out.pk)
    rows = {r.recipient: r for r in ConsentChange.objects.filter(type="WHATSAPP")}
    assert len(rows) == 2 and {r.origin for r in rows.values()} == {"migrated"}
    assert (rows["+905331230001"].consent_id, rows["+905331230001"].origin_ref) == (first.pk, "spring.csv (Spring)")
    assert rows["+905331230002"].origin_ref == "migrated from the contact's WhatsApp consent field"
    assert {r.status for r in rows.values()} == {"ONAY", "RET"} and not any(r.previous_status for r in rows.values())

    kept = Contact.objects.get(pk=opted_in.pk)
    assert (kept.whatsapp_consent, kept.whatsapp_consent_at, kept.whatsapp_consent_source) == (
        "opt_in",
        WHEN,
        "spring.csv (Spring)",
    )
    filled = Contact.objects.get(pk=opted_out.pk)  # what was empty shows what the ledger now holds
    assert (filled.whatsapp_consent, filled.whatsapp_consent_at, filled.whatsapp_consent_source) == (
        "opt_out",
        touched_at,
        "migrated from the contact's WhatsApp consent field",
    )
    assert Contact.objects.get(pk=unknown.pk).whatsapp_consent == "unknown"
    assert Contact.objects.get(pk=no_number.pk).whatsapp_consent == "opt_in"  # left as it was

    migrate(BEFORE)
    assert not Consent.objects.filter(type="WHATSAPP").exists()
    assert not ConsentChange.objects.filter(type="WHATSAPP").exists()
    assert Contact.objects.get(pk=opted_in.pk).whatsapp_consent == "opt_in"  # the contacts keep their values

    migrate(AFTER)  # again: the same, once
    assert Consent.objects.filter(type="WHATSAPP").count() == 2
    assert ConsentChange.objects.filter(type="WHATSAPP").count() == 2
