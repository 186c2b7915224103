"""A subscription change made in the panel is a consent change: it asks for the evidence, goes
into the ledger (which sets the subscription) and, for +90 numbers in Sync mode, to İYS."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from consent.contact_changes import subscription_change
from consent.models import ConsentChange, IysSubmission, SubmissionState
from consent.selectors import is_sendable
from contacts.models import Contact
from providers.models import ProviderAccount
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


@pytest.fixture
def marketer(client, django_user_model):
    user = django_user_model.objects.create_user("ayse", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketer"))
    client.force_login(user)
    return user


def test_the_contact_page_links_to_the_evidence_form_and_the_change_lands_in_the_ledger(client, marketer):
    ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
    contact = ContactFactory(phone="+905331230001", sms_subscription="none")
    page = client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()
    url = reverse("admin:consent_subscription_change", args=[contact.pk])
    assert url in page
    assert 'name="sms_subscription"' not in page  # never a bare switch

    when = timezone.localtime() - timedelta(hours=1)
    response = client.post(
        url,
        {
            "subscribed": "1",
            "source": "HS_FIZIKSEL_ORTAM",
            "consent_date": when.strftime("%Y-%m-%d %H:%M"),
            "recipient_type": "BIREYSEL",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.sms_subscription == "subscribed"
    change = ConsentChange.objects.get(recipient=contact.phone)
    assert (change.status, change.source, change.origin, change.acting_username) == (
        "ONAY",
        "HS_FIZIKSEL_ORTAM",
        "admin",
        "ayse",
    )
    assert IysSubmission.objects.get(change=change).state == SubmissionState.PENDING  # on its way to İYS
    assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (True, "")


def test_the_form_refuses_changes_without_valid_evidence(client, marketer):
    client.cookies.load({"django_language": "en"})  # the ledger's refusals are in the user's language
    contact = ContactFactory(phone="+905331230002", sms_subscription="subscribed")
    url = reverse("admin:consent_subscription_change", args=[contact.pk])
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    cases = [
        ({"subscribed": "0", "source": "HS_WEB", "consent_date": future}, None, "the consent date is in the future"),
        ({"subscribed": "1", "source": "HS_KARAR", "consent_date": "2025-01-02 10:00"}, None, "only allowed with RET"),
        ({"subscribed": "1", "source": "HS_2015", "consent_date": "2025-01-02 10:00"}, None, "HS_2015 must have"),
        ({"subscribed": "1", "source": "IYS_WEB", "consent_date": "2025-01-02 10:00"}, "source", ""),  # İYS's own
        ({"subscribed": "1", "source": "HS_WEB", "consent_date": "yesterday"}, "consent_date", ""),
    ]
    for data, field, message in cases:
        response = client.post(url, {**data, "recipient_type": "BIREYSEL"})
        assert response.status_code == 200
        errors = response.context["form"].errors
        if field:
            assert list(errors) == [field], data
        else:
            assert message in " ".join(errors["__all__"]), data
            assert message in response.content.decode().replace("&#x27;", "'")
    assert not ConsentChange.objects.exists()
    assert Contact.objects.get(pk=contact.pk).sms_subscription == "subscribed"


def test_service_unsubscribes_and_an_older_date_changes_nothing():
    contact = ContactFactory(phone="+447911123456", sms_subscription="subscribed")
    now = timezone.now()
    assert subscription_change(contact=contact, subscribed=False, source="HS_WEB", consent_date=now) == "created"
    contact.refresh_from_db()
    assert contact.sms_subscription == "not_subscribed"
    older = datetime(2024, 1, 1, 10, tzinfo=IST)
    assert subscription_change(contact=contact, subscribed=True, source="HS_WEB", consent_date=older) == "unchanged"
    assert Contact.objects.get(pk=contact.pk).sms_subscription == "not_subscribed"
    no_phone = ContactFactory(phone=None)
    with translation.override("en"):  # the refusal is worded in the active language
        refused = subscription_change(contact=no_phone, subscribed=True, source="HS_WEB", consent_date=now)
    assert "no mobile phone" in refused.reason
