"""The consent ledger: one write path, İYS's rules, append-only history."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from consent.models import Consent, ConsentChange
from consent.services import ConsentInput, consent_apply
from contacts.models import SmsSubscription
from contacts.parsers import Rejection
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


def change(status, day, recipient="+905331234562", **kw):
    return ConsentInput(
        recipient=recipient,
        type=kw.pop("type", "MESAJ"),
        status=status,
        consent_date=datetime(2025, 5, day, 12, 0, tzinfo=IST),
        source="HS_WEB",
        **kw,
    )


def test_a_later_date_wins_and_a_repeated_status_changes_nothing():
    assert consent_apply(changes=[change("ONAY", 1)], origin="admin") == ["created"]
    assert consent_apply(changes=[change("ONAY", 5)], origin="admin") == ["unchanged"]
    assert consent_apply(changes=[change("RET", 3), change("RET", 4)], origin="admin") == ["updated", "unchanged"]
    assert consent_apply(changes=[change("ONAY", 2)], origin="admin") == ["unchanged"]  # older than the RET
    consent = Consent.objects.get()
    assert consent.status == "RET" and consent.consent_date.day == 3
    assert list(ConsentChange.objects.order_by("pk").values_list("status", "previous_status")) == [
        ("ONAY", ""),
        ("RET", "ONAY"),
    ]


def test_type_must_fit_the_recipient_and_dates_must_be_possible():
    future = ConsentInput(
        recipient="+905331234562",
        type="MESAJ",
        status="ONAY",
        source="HS_WEB",
        consent_date=timezone.now() + timedelta(days=1),
    )
    results = consent_apply(
        changes=[change("ONAY", 1, type="EPOSTA"), future, change("ONAY", 1, recipient="a@example.com", type="MESAJ")],
        origin="api",
    )
    assert all(isinstance(r, Rejection) for r in results)
    assert not Consent.objects.exists()


def test_history_is_append_only_through_the_orm():
    consent_apply(changes=[change("ONAY", 1)], origin="admin")
    row = ConsentChange.objects.get()
    row.status = "RET"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        ConsentChange.objects.all().update(status="RET")
    with pytest.raises(PermissionError):
        ConsentChange.objects.all().delete()
    assert ConsentChange.objects.get().status == "ONAY"


def test_history_outlives_the_contact():
    contact = ContactFactory(phone="+905331234562")
    consent_apply(changes=[change("ONAY", 1, contact_id=contact.pk)], origin="admin")
    contact.delete()
    row = ConsentChange.objects.get()
    assert row.contact_id is None and row.recipient == "+905331234562"


def test_one_truth_two_views_mesaj_sets_subscription():
    contact = ContactFactory(phone="+905331234562")
    consent_apply(changes=[change("ONAY", 1)], origin="admin")
    contact.refresh_from_db()
    assert contact.sms_subscription == SmsSubscription.SUBSCRIBED
    consent_apply(changes=[change("RET", 2)], origin="iys_pull")
    contact.refresh_from_db()
    assert contact.sms_subscription == SmsSubscription.NOT_SUBSCRIBED
