"""Events become signed deliveries that a receiver verifies with the standardwebhooks library;
a receiver's error is retried on the back-off schedule, every attempt kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Contact
from messaging.delivery import handle_webhook_events, messages_apply_reports
from messaging.models import Message
from providers.base import DeliveryReport, InboundMessage, WebhookEvents
from webhooks.delivery import deliveries_claim
from webhooks.models import Attempt, Delivery, DeliveryStatus
from webhooks.tasks import deliver_due

pytestmark = pytest.mark.django_db
CONSENT = {
    "recipient": "+905331234562",
    "type": "MESAJ",
    "status": "ONAY",
    "consent_date": "2026-11-30 10:00:00",
    "source": "HS_WEB",
}


def test_a_consent_change_reaches_the_receiver_signed(api, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/consents/", CONSENT).status_code == 201
    (event,) = receiver.events("consent.changed")
    assert receiver.refused == []
    assert event["data"] == {
        "recipient": "+905331234562",
        "recipient_type": "BIREYSEL",
        "type": "MESAJ",
        "status": "ONAY",
        "previous_status": None,
        "consent_date": "2026-11-30T10:00:00+03:00",
        "source": "HS_WEB",
        "origin": "api",
    }
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    assert receiver.verified[0]["id"] == delivery.event_id


def test_a_message_status_and_its_history(
    api, endpoint, receiver, sms_account, infobip, django_capture_on_commit_callbacks
):
    Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Merhaba"}).json()
    message = Message.objects.get(pk=sent["id"])
    with django_capture_on_commit_callbacks(execute=True):
        report = DeliveryReport(key=message.key, status="delivered", raw_status="DELIVERED_TO_HANDSET")
        messages_apply_reports(account_id=sms_account.pk, reports=[report])
        messages_apply_reports(account_id=sms_account.pk, reports=[report])  # repeated: nothing moves
    statuses = [e["data"]["status"] for e in receiver.events("message.status")]
    assert statuses == ["queued", "delivered"]
    delivered = receiver.events("message.status")[-1]["data"]
    assert delivered["message_id"] == message.pk and delivered["raw_status"] == "DELIVERED_TO_HANDSET"
    read = api.get(f"/api/v1/messages/{message.pk}/").json()
    assert [h["status"] for h in read["history"]] == ["created", "queued", "delivered"]
    assert read["history"][-1]["raw_status"] == "DELIVERED_TO_HANDSET"
    assert read["origin"] == "API key 'tests' (" + api.api_key.prefix + ")"


def test_an_inbound_message(endpoint, receiver, sms_account, django_capture_on_commit_callbacks):
    Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")
    inbound = InboundMessage(sender="+905331234562", text="Merhaba", stop=False, provider_id="in-1")
    with django_capture_on_commit_callbacks(execute=True):
        handle_webhook_events(account_id=sms_account.pk, events=WebhookEvents(inbound=[inbound]))
    (event,) = receiver.events("message.inbound")
    assert event["data"]["from"] == "+905331234562" and event["data"]["text"] == "Merhaba"
    assert event["data"]["channel"] == "sms" and event["data"]["stop"] is False


def _consent(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/consents/", CONSENT).status_code == 201
    return Delivery.objects.get()


def _due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_receiver_error_is_retried_with_back_off(api, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.fail_next = [500, 503]
    delivery = _consent(api, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code == 500 and "HTTP 500" in delivery.last_error
    assert timedelta(seconds=3) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=5)
    assert deliver_due() == 0  # not due yet
    _due_now(delivery)
    deliver_due()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.last_status_code == 503
    assert timedelta(minutes=4) < delivery.next_attempt_at - timezone.now() <= timedelta(minutes=5)
    _due_now(delivery)
    deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert [a.status_code for a in Attempt.objects.filter(delivery=delivery)] == [500, 503, 204]
    assert len(receiver.events("consent.changed")) == 1  # delivered once; every try carried the same webhook-id
    assert receiver.verified[0]["id"] == delivery.event_id


def test_after_the_last_attempt_it_is_failed(api, endpoint, receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_RETRY_SECONDS = [0, 0]
    receiver.fail_next = [500] * 5
    delivery = _consent(api, django_capture_on_commit_callbacks)
    for _ in range(4):
        _due_now(delivery)
        deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert Attempt.objects.filter(delivery=delivery).count() == 3


def test_a_receiver_that_is_down(api, receiver, endpoint, django_capture_on_commit_callbacks):
    receiver.stop()
    delivery = _consent(api, django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and "could not connect" in delivery.last_error
    assert delivery.last_status_code is None


def test_a_wrong_secret_does_not_verify(api, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.secret = "whsec_" + "A" * 32  # the receiver has another endpoint's secret
    delivery = _consent(api, django_capture_on_commit_callbacks)
    assert receiver.verified == [] and "No matching signature" in receiver.refused[0]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 400


def test_two_workers_never_claim_one_delivery(endpoint):
    for i in range(30):
        Delivery.objects.create(
            endpoint_id=endpoint["id"], event_id=f"msg_{i}", event_type="message.status", payload={},
            next_attempt_at=timezone.now(),
        )  # fmt: skip
    first = deliveries_claim(endpoint_id=endpoint["id"], limit=20)
    second = deliveries_claim(endpoint_id=endpoint["id"], limit=20)
    assert len(first) == 20 and len(second) == 10
    assert not {d.pk for d in first} & {d.pk for d in second}
    assert deliveries_claim(endpoint_id=endpoint["id"]) == []


def test_no_endpoint_no_delivery(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/consents/", CONSENT).status_code == 201
    assert Delivery.objects.count() == 0


def test_a_cancelled_campaign_tells_of_each_message_it_stopped(
    api, endpoint, receiver, sms_account, django_capture_on_commit_callbacks
):
    from messaging.services import campaign_cancel, campaign_create, campaign_prepare, campaign_start
    from tests.contacts.factories import ContactFactory

    for i in range(3):
        ContactFactory(phone=f"+90532100{i:04d}")
    campaign = campaign_create(name="Kasım", kind="transactional", account=sms_account, text="Merhaba")
    campaign_start(campaign_id=campaign.pk)  # no commit callbacks run: nothing is dispatched
    campaign_prepare(campaign_id=campaign.pk)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_cancel(campaign_id=campaign.pk)
    events = receiver.events("message.status")
    assert sorted(e["data"]["message_id"] for e in events) == sorted(Message.objects.values_list("pk", flat=True))
    assert {e["data"]["status"] for e in events} == {"cancelled"}
    message = Message.objects.first()
    read = api.get(f"/api/v1/messages/{message.pk}/").json()
    assert [h["status"] for h in read["history"]] == ["created", "cancelled"]


def test_message_history_in_the_panel_shows_each_status(
    api, client, panel_admin, sms_account, infobip, django_capture_on_commit_callbacks
):
    Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Merhaba"}).json()
    message = Message.objects.get(pk=sent["id"])
    report = DeliveryReport(key=message.key, status="delivered", raw_status="DELIVERED_TO_HANDSET")
    messages_apply_reports(account_id=sms_account.pk, reports=[report])
    client.force_login(panel_admin)
    page = client.get(f"/admin/messaging/message/{message.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "DELIVERED_TO_HANDSET" in page and "Status history" in page
    assert "API key &#x27;tests&#x27;" in page  # who made it
