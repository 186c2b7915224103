from decimal import Decimal

import pytest
from django.utils import timezone

from contacts.models import Contact, ContactEvent
from messaging.models import Message
from messaging.services import campaign_create

pytestmark = pytest.mark.django_db


def test_campaign_stats_count_by_status_with_rates_segments_and_cost(api, sms_account):
    campaign = campaign_create(name="Kış", kind="newsletter", account=sms_account, text="Merhaba")
    now = timezone.now()
    rows = [("delivered", 2, "0.04")] * 3 + [("undelivered", 1, "0.02"), ("queued", 1, "0.02"), ("skipped", None, None)]
    for i, (status, segments, price) in enumerate(rows):
        contact = Contact.objects.create(phone=f"+9053312345{i:02d}")
        Message.objects.create(
            campaign=campaign, contact=contact, channel="sms", kind="newsletter", account=sms_account,
            to=contact.phone, status=status, segments=segments, price=Decimal(price) if price else None,
            sent_at=now if segments else None,
        )  # fmt: skip
    body = api.get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()
    assert body["total"] == 6
    assert body["by_status"] == {"delivered": 3, "undelivered": 1, "queued": 1, "skipped": 1}
    assert (body["handed_over"], body["delivered"], body["no_report"]) == (5, 3, 1)
    assert body["delivery_rate"] == 0.75
    assert body["segments"] == 8
    assert Decimal(body["cost"]) == Decimal("0.16")
    assert body["read_rate"] == 0.0


def test_stats_of_an_unknown_campaign_is_404_and_need_the_scope(api, make_client):
    assert api.get("/api/v1/campaigns/999/stats/").status_code == 404
    assert make_client("messages").get("/api/v1/campaigns/999/stats/").status_code == 403


def test_an_event_is_stored_with_its_contact(api):
    contact = Contact.objects.create(external_id="u-1")
    response = api.post("/api/v1/events/", {"contact": "u-1", "name": "cart_abandoned", "properties": {"total": 129.9}})
    assert response.status_code == 201, response.json()
    event = ContactEvent.objects.get()
    assert (event.contact, event.name, event.properties) == (contact, "cart_abandoned", {"total": 129.9})
    assert event.origin_ref == api.api_key.label
    assert response.json()["contact"] == "u-1"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"contact": "nobody", "name": "x"}, "contact"),
        ({"contact": "u-1", "name": "has spaces"}, "name"),
        ({"contact": "u-1", "name": "x", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"contact": "u-1", "name": "x", "properties": "not an object"}, "properties"),
    ],
)
def test_bad_events_are_400_naming_the_field(api, body, field):
    Contact.objects.create(external_id="u-1")
    response = api.post("/api/v1/events/", body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not ContactEvent.objects.exists()
