"""A consent belongs to its number, not to the contact that had it (product.md: one truth, two
views; WhatsApp consent): whichever contacts write changes a contact's phone or WhatsApp number —
the API, the contact page, the Contacts page import, a User upload — the contact shows what the
ledger holds for the number it has now, and the sending rule follows. An opt-in never travels to
a number nobody opted in with."""

from datetime import timedelta

import pytest
import tablib
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.models import Consent, ConsentType
from consent.selectors import is_sendable
from consent.services import ConsentInput, consent_apply
from contacts.models import Contact, FileTransfer
from contacts.parsers import UserLine
from contacts.resources import ContactImportResource
from contacts.transfers import UserUpload
from contacts.upsert import contacts_upsert
from tests.consent.test_whatsapp_consent_invariants import NUMBERS, _apply, _check_contacts_show_the_ledger, operation

pytestmark = pytest.mark.django_db

OPTED_IN, OPTED_OUT, NOBODY = "+905330000101", "+905330000102", "+905330000103"
A_DAY_AGO = timezone.now() - timedelta(days=1)


def _ledger(number: str, type_: str, status: str) -> None:
    source = "WHATSAPP" if type_ == ConsentType.WHATSAPP else "HS_WEB"
    change = ConsentInput(recipient=number, type=type_, status=status, consent_date=A_DAY_AGO, source=source)
    with translation.override("en"):
        [result] = consent_apply(changes=[change], origin="upload")
    assert result in ("created", "updated"), result


@pytest.fixture
def ledger():
    _ledger(OPTED_IN, ConsentType.WHATSAPP, "ONAY")
    _ledger(OPTED_OUT, ConsentType.WHATSAPP, "RET")
    _ledger(OPTED_IN, ConsentType.MESAJ, "ONAY")
    _ledger(OPTED_OUT, ConsentType.MESAJ, "RET")


def _whatsapp_newsletter(contact: Contact) -> tuple[bool, str]:
    with translation.override("en"):
        return is_sendable(contact_id=contact.pk, kind="newsletter", channel="whatsapp")


def test_the_api_moving_an_opted_in_contact_to_an_opted_out_number_shows_opt_out_and_never_sends(ledger):
    [created] = contacts_upsert(items=[{"external_id": "u1", "whatsapp_number": OPTED_IN, "phone": OPTED_IN}])
    assert (created.contact.whatsapp_consent, created.contact.sms_subscription) == ("opt_in", "subscribed")
    assert _whatsapp_newsletter(created.contact) == (True, "")

    [moved] = contacts_upsert(items=[{"external_id": "u1", "whatsapp_number": OPTED_OUT, "phone": OPTED_OUT}])
    assert moved.outcome == "updated"
    assert (moved.contact.whatsapp_consent, moved.contact.sms_subscription) == ("opt_out", "not_subscribed")
    stored = Contact.objects.get(external_id="u1")
    assert (stored.whatsapp_consent, stored.sms_subscription) == ("opt_out", "not_subscribed")
    assert _whatsapp_newsletter(stored)[0] is False

    [fresh] = contacts_upsert(items=[{"external_id": "u1", "whatsapp_number": NOBODY, "phone": NOBODY}])
    assert (fresh.contact.whatsapp_consent, fresh.contact.whatsapp_consent_at) == ("unknown", None)
    assert fresh.contact.sms_subscription == "none"  # CONTACT_DEFAULT_SMS_SUBSCRIPTION
    assert _whatsapp_newsletter(fresh.contact)[0] is False
    [cleared] = contacts_upsert(items=[{"external_id": "u1", "whatsapp_number": None}])
    assert cleared.contact.whatsapp_consent == "unknown"
    assert Consent.objects.filter(type="WHATSAPP", recipient=OPTED_IN, status="ONAY").exists()  # the ledger keeps it


def test_the_contact_page_changing_the_numbers_shows_the_new_numbers_consent(admin_client, ledger):
    from tests.contacts.test_attribute_editor import page_data

    contact = Contact.objects.create(external_id="p1", phone=OPTED_IN, whatsapp_number=OPTED_IN)
    Contact.objects.filter(pk=contact.pk).update(sms_subscription="subscribed", whatsapp_consent="opt_in")
    data = {**page_data(admin_client, contact, []), "phone": [OPTED_OUT], "whatsapp_number": [NOBODY]}
    response = admin_client.post(reverse("admin:contacts_contact_change", args=[contact.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert (contact.phone, contact.sms_subscription) == (OPTED_OUT, "not_subscribed")
    assert (contact.whatsapp_number, contact.whatsapp_consent) == (NOBODY, "unknown")


def test_a_save_reads_back_what_the_ledger_set_so_a_second_save_keeps_it(ledger):
    contact = Contact.objects.create(external_id="s1", whatsapp_number=OPTED_IN, whatsapp_consent="opt_in")
    contact = Contact.objects.get(pk=contact.pk)
    contact.whatsapp_number = OPTED_OUT
    contact.save()
    assert contact.whatsapp_consent == "opt_out"
    contact.attributes = {"name": "Ayşe"}
    contact.save()  # a full save: writes what it read back, never the old opt-in
    assert Contact.objects.get(pk=contact.pk).whatsapp_consent == "opt_out"
    assert Consent.objects.get(type="WHATSAPP", recipient=OPTED_OUT).contact_id == contact.pk


def test_the_contacts_page_import_moving_a_number_follows_the_ledger(ledger):
    contact = Contact.objects.create(external_id="i1", phone=OPTED_IN, whatsapp_number=OPTED_IN)
    Contact.objects.filter(pk=contact.pk).update(sms_subscription="subscribed", whatsapp_consent="opt_in")
    data = tablib.Dataset(headers=["external_id", "phone", "whatsapp_number"])
    data.append(["i1", OPTED_OUT, OPTED_OUT])
    result = ContactImportResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    contact.refresh_from_db()
    assert (contact.sms_subscription, contact.whatsapp_consent) == ("not_subscribed", "opt_out")


def test_a_user_upload_giving_a_phone_to_a_contact_without_one_follows_the_ledger(ledger):
    contact = Contact.objects.create(external_id="f1")
    Contact.objects.filter(pk=contact.pk).update(sms_subscription="subscribed")  # from a number it no longer has
    transfer = FileTransfer.objects.create(name="users", kind="user", original_name="users.csv")
    assert UserUpload(transfer).apply([UserLine(phone=OPTED_OUT, external_id="f1")]) == ["updated"]
    contact.refresh_from_db()
    assert (contact.phone, contact.sms_subscription) == (OPTED_OUT, "not_subscribed")


# --- the WhatsApp invariant, with the contacts writes moving numbers between the ledger's changes --
move = st.tuples(
    st.just("move"),
    st.sampled_from(["api", "save"]),
    st.integers(0, 5),
    st.one_of(st.none(), st.sampled_from(NUMBERS)),
)


def _move(op: tuple) -> None:
    _name, how, which, number = op
    contacts = list(Contact.objects.order_by("pk"))
    if not contacts or (number and Contact.objects.filter(whatsapp_number=number).exists()):
        return  # one number, one contact: the API and the page refuse a number another holds
    contact = contacts[which % len(contacts)]
    if how == "api":
        contact.external_id = contact.external_id or f"x{contact.pk}"
        Contact.objects.filter(pk=contact.pk).update(external_id=contact.external_id)
        [outcome] = contacts_upsert(items=[{"external_id": contact.external_id, "whatsapp_number": number}])
        assert outcome.outcome in ("updated", "unchanged"), outcome.errors
    else:
        contact.whatsapp_number = number
        contact.save()


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    numbers=st.lists(st.one_of(st.none(), st.sampled_from(NUMBERS)), min_size=1, max_size=3),
    operations=st.lists(st.one_of(operation, move), min_size=1, max_size=8),
)
def test_whatever_moves_the_numbers_each_contact_shows_the_ledger_for_its_number(numbers, operations):
    with transaction.atomic():
        for i, number in enumerate(dict.fromkeys(numbers)):
            Contact.objects.create(external_id=f"c{i}", whatsapp_number=number)
        for step, op in enumerate(operations):
            if op[0] == "move":
                _move(op)
            else:
                _apply(step, op)
            _check_contacts_show_the_ledger()
            for contact in Contact.objects.all():
                sendable, _reason = _whatsapp_newsletter(contact)
                assert sendable == (contact.whatsapp_number is not None and contact.whatsapp_consent == "opt_in")
        transaction.set_rollback(True)
