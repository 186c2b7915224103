from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_sms.models import SmsTemplate
from consent.models import Consent, ConsentChange
from contacts.models import Contact
from messaging.models import Message
from messaging.single import messages_send_due_single
from tests.consent.test_sending_rule import contact_state, make, oracle

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(db):
    return Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")


def test_a_newsletter_to_a_subscribed_contact_is_queued_then_sent(
    api, sms_account, infobip, subscribed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Merhaba {{name|dostum}}"}
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["to"] == "+905331234562"
    assert [m["text"] for m in infobip.accepted.values()] == ["Merhaba dostum"]
    read = api.get(f"/api/v1/messages/{body['id']}/").json()
    assert read["status"] == "queued"  # Infobip holds it in its queue until its report
    assert read["segments"] == 1
    assert read["sent_at"] is not None
    assert read["contact"] == "u-1"
    assert read["account"] == "Infobip"


def test_a_number_of_no_contact_gets_no_newsletter_skipped_with_the_reason(
    api, sms_account, infobip, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/messages/", {"channel": "sms", "to": "+905339998877", "text": "Kampanya"})
    assert response.status_code == 201
    assert response.json()["status"] == "skipped"
    assert "no contact" in response.json()["reason"]
    assert infobip.accepted == {}


def test_a_transactional_message_may_go_to_a_number_of_no_contact(
    api, sms_account, infobip, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/",
            {"channel": "sms", "to": "0533 999 88 77", "kind": "transactional", "text": "Kodunuz 1234"},
        )
    assert response.json()["status"] == "queued"
    assert [m["to"] for m in infobip.accepted.values()] == ["905339998877"]


def test_an_unsubscribed_contact_is_skipped_with_the_rule_words(
    api, sms_account, infobip, django_capture_on_commit_callbacks
):
    Contact.objects.create(external_id="u-2", phone="+905331234563", sms_subscription="not_subscribed")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-2", "text": "Kampanya"})
    assert response.json()["status"] == "skipped"
    assert response.json()["reason"]
    assert infobip.accepted == {}


def test_a_template_with_placeholders(api, sms_account, infobip, subscribed, django_capture_on_commit_callbacks):
    SmsTemplate.objects.create(name="welcome", text="Hoş geldin {{name}}, kodun {{code}}", sender="MARKA")
    with django_capture_on_commit_callbacks(execute=True):
        missing = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "template": "welcome"})
        assert missing.status_code == 400
        assert "{{name}}" in missing.json()["errors"]["placeholders"][0]
        response = api.post(
            "/api/v1/messages/",
            {"channel": "sms", "contact": "u-1", "template": "welcome", "placeholders": {"name": "Ayşe", "code": "42"}},
        )
    assert response.status_code == 201, response.json()
    assert [m["text"] for m in infobip.accepted.values()] == ["Hoş geldin Ayşe, kodun 42"]


def test_a_send_date_schedules_it_and_beat_sends_it_when_due(
    api, sms_account, infobip, subscribed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Yarın", "send_date": "2099-12-24 09:30"}
        )
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["send_at"] == "2099-12-24T09:30:00+03:00"
    assert messages_send_due_single() == 0
    assert infobip.accepted == {}
    Message.objects.filter(pk=body["id"]).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert messages_send_due_single() == 1
    assert messages_send_due_single() == 0  # never twice
    assert len(infobip.accepted) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel": "sms", "text": "x"}, "to"),
        ({"channel": "sms", "to": "+905331234562", "contact": "u-1", "text": "x"}, "to"),
        ({"channel": "fax", "to": "+905331234562", "text": "x"}, "channel"),
        ({"channel": "sms", "to": "12", "text": "x"}, "to"),
        ({"channel": "sms", "contact": "nobody", "text": "x"}, "contact"),
        ({"channel": "sms", "to": "+905331234562", "text": " "}, "text"),
        ({"channel": "sms", "to": "+905331234562", "template": "nope"}, "template"),
        ({"channel": "sms", "to": "+905331234562", "text": "x", "account": "Other"}, "account"),
        ({"channel": "sms", "to": "+905331234562", "text": "x", "send_date": "tomorrow"}, "send_date"),
        ({"channel": "sms", "to": "+905331234562", "text": "x", "sender": "THIS SENDER IS FAR TOO LONG"}, "sender"),
        ({"channel": "whatsapp", "to": "+905331234562", "text": "x"}, "account"),
    ],
)
def test_bad_requests_name_the_field_and_make_nothing(api, sms_account, body, field):
    response = api.post("/api/v1/messages/", body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not Message.objects.exists()


def test_the_list_is_filtered_and_cursor_paginated(
    api, sms_account, infobip, subscribed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ids = [
            api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": f"m{i}"}).json()["id"]
            for i in range(5)
        ]
        api.post("/api/v1/messages/", {"channel": "sms", "to": "+905339998877", "text": "skip me"})
    first = api.get("/api/v1/messages/", {"status": "queued", "limit": 2}).json()
    assert [m["id"] for m in first["results"]] == ids[::-1][:2]
    second = api.get(first["next"]).json()
    assert [m["id"] for m in second["results"]] == ids[::-1][2:4]
    assert [m["status"] for m in api.get("/api/v1/messages/", {"status": "skipped"}).json()["results"]] == ["skipped"]
    assert len(api.get("/api/v1/messages/", {"contact": "u-1"}).json()["results"]) == 5
    assert api.get("/api/v1/messages/", {"status": "nope"}).status_code == 400
    assert api.get("/api/v1/messages/", {"created_after": "yesterday"}).status_code == 400


def test_messages_need_their_scope(make_client, sms_account):
    client = make_client("contacts")
    assert client.post("/api/v1/messages/", {"channel": "sms", "to": "+905331234562", "text": "x"}).status_code == 403
    assert client.get("/api/v1/messages/").status_code == 403
    assert not Message.objects.exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    states=st.lists(contact_state, min_size=1, max_size=6),
    gate=st.sampled_from(["off", "sync", "integrator"]),
    kind=st.sampled_from(["transactional", "newsletter"]),
)
def test_through_the_api_the_provider_gets_exactly_what_the_rule_allows(
    make_client, infobip, states, gate, kind, django_capture_on_commit_callbacks
):
    from providers.services import account_install

    Message.objects.all().delete()
    ConsentChange.objects.all()._raw_delete(ConsentChange.objects.db)  # test reset of an append-only table
    Consent.objects.all().delete()
    Contact.objects.all().delete()
    contacts = make(states, gate)
    account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA"},
    )
    infobip.accepted.clear()
    client = make_client("messages")
    with django_capture_on_commit_callbacks(execute=True):
        for _contact, state in contacts:
            if state["phone"]:
                response = client.post(
                    "/api/v1/messages/", {"channel": "sms", "to": state["phone"], "kind": kind, "text": "Merhaba"}
                )
                assert response.status_code == 201
                allowed = oracle(state, kind=kind, channel="sms", gate=gate)
                assert (response.json()["status"] == "queued") == allowed, (state, response.json())
    allowed = {s["phone"][1:] for _, s in contacts if oracle(s, kind=kind, channel="sms", gate=gate)}
    assert set(infobip.recipients()) == allowed
    assert all(n == 1 for n in infobip.recipients().values())


def test_delivered_at_is_given_once_the_report_says_delivered_and_not_for_a_failure(
    api, sms_account, infobip, subscribed, django_capture_on_commit_callbacks
):
    from messaging.delivery import messages_update

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "bir"}).json()["id"]
        second = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "iki"}).json()["id"]
    assert api.get(f"/api/v1/messages/{first}/").json()["delivered_at"] is None  # not yet reported
    at = timezone.now() - timedelta(minutes=1)
    messages_update({first: {"status": "delivered", "done_at": at}, second: {"status": "undelivered", "done_at": at}})
    delivered = api.get(f"/api/v1/messages/{first}/").json()
    assert delivered["status"] == "delivered" and delivered["delivered_at"] == delivered["done_at"] is not None
    undelivered = api.get(f"/api/v1/messages/{second}/").json()
    assert undelivered["delivered_at"] is None and undelivered["done_at"] is not None
