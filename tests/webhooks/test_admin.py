"""The panel's Outgoing webhooks: an admin registers an endpoint, sees its secret, every delivery
with its attempts, and sends a failed one again; marketers see none of it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint

pytestmark = pytest.mark.django_db


def test_an_admin_registers_an_endpoint_and_follows_its_deliveries(
    client, panel_admin, receiver, django_capture_on_commit_callbacks
):
    client.force_login(panel_admin)
    response = client.post(
        "/admin/webhooks/endpoint/add/",
        {"url": f"{receiver.url}/in", "event_choices": ["consent.changed"], "description": "CRM", "active": "on"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["consent.changed"] and endpoint.created_by == panel_admin
    page = client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret in page  # the receiver needs it to verify
    receiver.secret = endpoint.secret
    receiver.fail_next = [500]
    from consent.recording import consent_record

    with django_capture_on_commit_callbacks(execute=True):
        consent_record(
            recipient="+905331234562", type="MESAJ", status="ONAY", consent_date=timezone.now() - timedelta(days=1),
            source="HS_WEB", origin_ref="test",
        )  # fmt: skip
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    page = client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "the endpoint answered HTTP 500" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/webhooks/delivery/",
            {"action": "retry_now", "_selected_action": [delivery.pk]},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert "1 delivery queued again." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.status_code for a in Attempt.objects.order_by("at")] == [500, 204]


def test_an_endpoint_on_the_panels_own_network_is_refused(client, panel_admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(panel_admin)
    response = client.post(
        "/admin/webhooks/endpoint/add/", {"url": "https://127.0.0.1/in", "event_choices": ["message.status"]}
    )
    assert response.status_code == 200
    assert "private, loopback or reserved" in str(response.context["adminform"].form.errors["url"])
    assert not Endpoint.objects.exists()


def test_marketers_cannot_see_webhooks(client, marketer):
    client.force_login(marketer)
    assert client.get("/admin/webhooks/endpoint/").status_code == 403
    assert client.get("/admin/webhooks/delivery/").status_code == 403


def test_the_deliveries_list_says_attempts_last_answer_and_next_attempt_in_four_columns(client, panel_admin):
    endpoint = Endpoint.objects.create(url="https://crm.example.com/in", events=["message.status"], secret="whsec_x")
    soon = timezone.now() + timedelta(minutes=5)
    Delivery.objects.create(
        endpoint=endpoint, event_id="msg_retry", event_type="message.status", payload={},
        attempts=2, last_status_code=503, next_attempt_at=soon,
    )  # fmt: skip
    Delivery.objects.create(
        endpoint=endpoint, event_id="msg_done", event_type="message.status", payload={},
        status=DeliveryStatus.DELIVERED, attempts=1, last_status_code=204, delivered_at=soon,
    )  # fmt: skip
    client.force_login(panel_admin)
    response = client.get("/admin/webhooks/delivery/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert len(response.context["cl"].list_display) == 5  # the checkbox and four columns
    assert "2 attempts · last answer HTTP 503" in page and "1 attempt · last answer HTTP 204" in page
    assert "next attempt " + timezone.localtime(soon).strftime("%d.%m.%Y %H:%M") in page
    assert "delivered " + timezone.localtime(soon).strftime("%d.%m.%Y %H:%M") in page
    assert "msg_retry" in page and "msg_done" in page
