"""WhatsApp consent, one truth in two views (product.md WhatsApp consent): whatever sequence of
changes the number import, STOP replies, Meta's 131050 and the contact page make, each contact
shows what the ledger holds for its number; and the import writes a batch in a handful of
statements whatever its size (File Transfers: batches of 5,000 lines stay set-based)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.contact_changes import consent_whatsapp_opt_out, whatsapp_consent_change
from consent.models import ChangeOrigin, Consent, ConsentChange, IysSubmission
from consent.whatsapp_import import WhatsAppImport
from contacts.models import Contact, FileTransfer
from contacts.parsers import Rejection, WhatsAppLine
from tests.consent.test_whatsapp_consent import sync_mode

pytestmark = pytest.mark.django_db

# --- one truth, two views: whatever the sources do, the contact shows the ledger ---------------
NUMBERS = ["+905330000001", "+905330000002", "+905330000003"]
exid = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
email = st.one_of(st.none(), st.sampled_from(["a@example.com", "b@example.com"]))
msisdn = st.one_of(st.none(), st.sampled_from(["+905550000001", "+905550000002"]))
line = st.builds(
    WhatsAppLine, wp_number=st.sampled_from(NUMBERS), opt_in=st.booleans(), external_id=exid, email=email, msisdn=msisdn
)
offset = st.sampled_from([None, -86_400, -1, 3_600])  # seconds from now (None: now; later ones: in the future)
operation = st.one_of(
    st.tuples(st.just("import"), st.lists(line, min_size=1, max_size=6)),
    st.tuples(st.just("opt_out"), st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=2), offset),
    st.tuples(st.just("page"), st.integers(0, 5), st.booleans(), offset),
)
known = st.lists(st.tuples(exid, st.one_of(st.none(), st.sampled_from(NUMBERS))), max_size=3)


def _apply(step: int, op: tuple) -> None:
    if op[0] == "import":
        transfer = FileTransfer.objects.create(name=f"file {step}", kind="whatsapp", original_name=f"f{step}.csv")
        WhatsAppImport(transfer).apply(op[1])
        return
    now = timezone.now()
    when = None if op[-1] is None else now + timedelta(seconds=op[-1])
    if op[0] == "opt_out":
        origin = ChangeOrigin.INBOUND if step % 2 else ChangeOrigin.PROVIDER
        consent_whatsapp_opt_out(numbers=op[1], origin=origin, origin_ref=f"stop {step}", at=when)
        return
    holders = list(Contact.objects.filter(whatsapp_number__isnull=False).order_by("pk"))
    if holders:
        with translation.override("en"):  # the ledger words its refusals in the active language
            result = whatsapp_consent_change(
                contact=holders[op[1] % len(holders)],
                opt_in=op[2],
                source="HS_WEB",
                consent_date=when or now,
                evidence=f"evidence {step}",
            )
        assert not isinstance(result, Rejection) or "future" in result.reason


def _check_contacts_show_the_ledger() -> None:
    consents = {k.recipient: k for k in Consent.objects.filter(type="WHATSAPP")}
    for consent in consents.values():
        last = ConsentChange.objects.filter(consent=consent).order_by("-pk").first()
        assert (last.status, last.consent_date) == (consent.status, consent.consent_date)
    for contact in Contact.objects.all():
        consent = consents.get(contact.whatsapp_number) if contact.whatsapp_number else None
        expected = ("unknown", None, "")
        if consent is not None:
            last = ConsentChange.objects.filter(consent=consent).order_by("-pk").first()
            expected = ({"ONAY": "opt_in", "RET": "opt_out"}[consent.status], consent.consent_date, last.origin_ref)
            assert consent.contact_id == contact.pk  # the consent follows the number's contact
        shown = (contact.whatsapp_consent, contact.whatsapp_consent_at, contact.whatsapp_consent_source)
        assert shown == expected, (contact.whatsapp_number, shown, expected)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contacts=known, operations=st.lists(operation, min_size=1, max_size=6), sync=st.booleans())
def test_the_contact_fields_always_equal_what_the_ledger_implies(contacts, operations, sync):
    with transaction.atomic():
        if sync:
            sync_mode()
        numbers, exids = set(), set()
        for external_id, number in contacts:
            if (external_id and external_id in exids) or (number and number in numbers):
                continue  # both belong to one contact
            exids.add(external_id)
            numbers.add(number)
            Contact.objects.create(external_id=external_id, whatsapp_number=number)
        recorded = 0
        for step, op in enumerate(operations):
            _apply(step, op)
            _check_contacts_show_the_ledger()
            assert ConsentChange.objects.count() >= recorded  # history only grows
            recorded = ConsentChange.objects.count()
        assert not IysSubmission.objects.exists()
        transaction.set_rollback(True)


def _statements_for(lines: int, start: int) -> int:
    """Statements of one batch: a third new contacts, a third known ones that get a number, a third
    flipping the status of a number a contact holds."""
    numbers = [f"+90533{start + i:07d}" for i in range(lines)]
    known = Contact.objects.bulk_create(Contact(external_id=f"k{start + i}") for i in range(lines // 3))
    holders = Contact.objects.bulk_create(
        Contact(external_id=f"h{start + i}", whatsapp_number=numbers[i]) for i in range(2 * lines // 3, lines)
    )
    records = [
        WhatsAppLine(wp_number=numbers[i], opt_in=False, external_id=f"new{start + i}") for i in range(lines // 3)
    ]
    records += [
        WhatsAppLine(wp_number=numbers[lines // 3 + i], opt_in=True, external_id=c.external_id)
        for i, c in enumerate(known)
    ]
    records += [WhatsAppLine(wp_number=c.whatsapp_number, opt_in=True) for c in holders]
    transfer = FileTransfer.objects.create(name=f"batch {lines}", kind="whatsapp", original_name="batch.csv")
    with CaptureQueriesContext(connection) as queries:
        results = WhatsAppImport(transfer).apply(records)
    assert results.count("created") == lines // 3 and "unchanged" not in results
    _check_contacts_show_the_ledger()
    return len(queries)


def test_a_batch_is_a_handful_of_statements_whatever_its_size():
    _statements_for(3, 900_000)  # once per process: sequence names, content types
    few = _statements_for(30, 0)
    many = _statements_for(3000, 1000)
    if connection.vendor == "postgresql":
        assert many == few, (few, many)  # COPY and json_to_recordset: one statement per step
    else:  # Django's bulk methods, as many rows a statement as SQLite's parameter limit allows
        assert many <= 3000 // 20, (few, many)
