"""Idempotency-Key on POST /api/v1/messages/: a retried send is answered, never sent again."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from api.services import api_key_create
from contacts.models import Contact
from messaging.models import Message
from tests.services import require_postgres

BODY = {"channel": "sms", "contact": "u-1", "text": "Siparişiniz yolda"}


@pytest.mark.django_db
def test_the_same_key_and_body_returns_the_first_answer_and_sends_nothing_again(
    api, sms_account, infobip, django_capture_on_commit_callbacks
):
    Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/api/v1/messages/", BODY, HTTP_IDEMPOTENCY_KEY="order-1001")
        again = api.post("/api/v1/messages/", BODY, HTTP_IDEMPOTENCY_KEY="order-1001")
        other = api.post("/api/v1/messages/", {**BODY, "text": "başka"}, HTTP_IDEMPOTENCY_KEY="order-1001")
    assert first.status_code == again.status_code == 201
    assert again["Idempotency-Replay"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    assert Message.objects.count() == 1
    assert len(infobip.accepted) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_with_one_key_make_one_message(sms_account, infobip):
    require_postgres()
    Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")
    _api_key, key = api_key_create(name="race", scopes=["messages"])
    barrier = threading.Barrier(4)
    responses, errors = [], []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait()
            responses.append(client.post("/api/v1/messages/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="same"))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sorted(r.status_code for r in responses).count(201) >= 1
    assert {r.status_code for r in responses} <= {201, 409}
    assert Message.objects.count() == 1
    assert len(infobip.accepted) == 1
