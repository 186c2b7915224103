import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact, ContactList, SmsSubscription
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_search_finds_a_phone_typed_in_any_format(admin_client):
    ContactFactory(phone="+905331234562", external_id="u-1")
    ContactFactory(phone="+905339999999", external_id="u-2")
    url = reverse("admin:contacts_contact_changelist")
    for typed in ["0533 123 45 62", "+90 533 123 4562", "905331234562", "u-1"]:
        results = admin_client.get(url, {"q": typed}).context["cl"].result_list
        assert [c.external_id for c in results] == ["u-1"], typed


def test_changelist_queries_do_not_grow_with_rows(admin_client):
    url = reverse("admin:contacts_contact_changelist")
    ContactFactory.create_batch(5)
    admin_client.get(url)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    ContactFactory.create_batch(45)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)
    assert not any(
        "COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"]
        for q in many.captured_queries
        if "contacts_contact" in q["sql"]
    )


def test_default_subscription_is_none_and_configurable(settings):
    assert ContactFactory().sms_subscription == SmsSubscription.NONE
    settings.CONTACT_DEFAULT_SMS_SUBSCRIPTION = "not_subscribed"
    assert ContactFactory().sms_subscription == SmsSubscription.NOT_SUBSCRIBED


def test_phone_must_be_e164():
    with transaction.atomic(), pytest.raises(IntegrityError):
        ContactFactory(phone="05331234562")


def test_one_whatsapp_number_belongs_to_one_contact():
    ContactFactory(whatsapp_number="+905331234562")
    with transaction.atomic(), pytest.raises(IntegrityError):
        ContactFactory(whatsapp_number="+905331234562")


def test_ids_and_numbers_are_unique_only_when_present_and_the_form_says_so_plainly(admin_client):
    ContactFactory(external_id="u1", whatsapp_number="+905331234562")
    ContactFactory(external_id=None, whatsapp_number=None)
    ContactFactory(external_id=None, whatsapp_number=None)  # many contacts without either: allowed
    with transaction.atomic(), pytest.raises(IntegrityError):
        ContactFactory(external_id="u1")
    response = admin_client.post(
        reverse("admin:contacts_contact_add"),
        {
            "external_id": "u1",
            "whatsapp_number": "+905331234562",
            "phone_status": "active",
            "whatsapp_consent": "unknown",
            "attributes": "{}",
            "consent_changes-TOTAL_FORMS": "0",
            "consent_changes-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200  # the form again, with the errors
    text = response.content.decode()
    assert "Another contact has this external id." in text
    assert "Another contact has this WhatsApp number." in text
    assert Contact.objects.filter(external_id="u1").count() == 1


def test_seed_demo_is_idempotent():
    call_command("seed_demo", count=200, verbosity=0)
    call_command("seed_demo", count=200, verbosity=0)
    assert Contact.objects.count() == 200
    statuses = set(Contact.objects.values_list("phone_status", flat=True))
    assert statuses == {"active", "bounced", "paused"}
    assert set(Contact.objects.values_list("sms_subscription", flat=True)) == {"subscribed", "not_subscribed", "none"}
    assert ContactList.objects.get(name="Demo: VIP customers").contacts.count() == len(range(1, 201, 7))


def test_ensure_admin_prints_a_password_once(capsys, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    first = capsys.readouterr().out
    password = first.rsplit("password: ", 1)[1].strip()
    from django.contrib.auth import authenticate
    from django.http import HttpRequest

    # django-axes checks every authentication against its request (axes' documented test form)
    assert authenticate(HttpRequest(), username="admin", password=password) is not None
    call_command("ensure_admin")
    assert password not in capsys.readouterr().out
    assert authenticate(HttpRequest(), username="admin", password=password) is not None


def test_contact_page_shows_its_consent_history_without_n_plus_one(admin_client):
    from consent.services import consent_apply
    from tests.consent.test_ledger import change

    contact = ContactFactory(phone="+905331234562")
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    consent_apply(changes=[change("ONAY", 1, contact_id=contact.pk)], origin="admin")
    admin_client.get(url)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "consent history" in page.content.decode().lower()
    consent_apply(
        changes=[
            change("RET", d, contact_id=contact.pk) if d % 2 else change("ONAY", d, contact_id=contact.pk)
            for d in range(2, 12)
        ],
        origin="admin",
    )
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.content.decode().count("Website") == 10  # HS_WEB label; day 2 repeated ONAY: no row
    assert len(many) == len(few)


def test_consent_screens_are_read_only(admin_client):
    assert admin_client.get(reverse("admin:consent_consent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:consent_consentchange_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:consent_consentchange_add")).status_code == 403
