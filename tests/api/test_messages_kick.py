"""Single messages made one by one (POST /api/v1/messages/) wake a worker with one task per drain,
not one per message (messaging.single._queue): every message is still sent once, soon, and a
lost wake-up leaves its messages to beat (product.md: The public API, messages)."""

import pytest
from django.core.cache import cache

from contacts.models import Contact
from messaging.models import Message, MessageStatus
from messaging.single import KICK, messages_drain_due_single, messages_send_due_single

pytestmark = pytest.mark.django_db


@pytest.fixture
def kicks(monkeypatch):
    """The wake-ups published, held (the workers are busy): a list of how many were sent."""
    published = []
    monkeypatch.setattr("messaging.tasks.send_due_single_messages.delay", lambda: published.append(1))
    cache.delete(KICK)
    yield published
    cache.delete(KICK)


@pytest.fixture
def contacts(db):
    return [
        Contact.objects.create(external_id=f"u-{i}", phone=f"+90533123456{i}", sms_subscription="subscribed")
        for i in range(5)
    ]


def post(api, contact):
    body = {"channel": "sms", "contact": contact.external_id, "kind": "transactional", "text": "Kargonuz yolda"}
    response = api.post("/api/v1/messages/", body, format="json")
    assert response.status_code == 201 and response.json()["status"] == "queued", response.json()


def test_a_burst_of_sends_wakes_one_drain_which_sends_each_once(
    api, sms_account, infobip, contacts, kicks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for contact in contacts:
            post(api, contact)
    assert len(kicks) == 1
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.PENDING}
    assert messages_drain_due_single() == 5
    assert messages_drain_due_single() == 0  # a second drain (or a redelivered task) sends nothing again
    assert sorted(m["to"] for m in infobip.accepted.values()) == sorted(c.phone.lstrip("+") for c in contacts)
    assert not Message.objects.filter(status=MessageStatus.PENDING).exists()
    with django_capture_on_commit_callbacks(execute=True):
        post(api, contacts[0])  # made after the drain started: wakes another
    assert len(kicks) == 2


def test_a_send_made_while_a_drain_runs_is_sent_by_it_or_wakes_the_next(
    api, sms_account, infobip, contacts, kicks, django_capture_on_commit_callbacks, monkeypatch
):
    from messaging import single

    with django_capture_on_commit_callbacks(execute=True):
        post(api, contacts[0])
    assert len(kicks) == 1
    real = single.messages_send_single_ids

    def meanwhile(**kwargs):  # another request commits its message while the drain sends
        with django_capture_on_commit_callbacks(execute=True):
            post(api, contacts[1])
        return real(**kwargs)

    monkeypatch.setattr(single, "messages_send_single_ids", meanwhile)
    messages_drain_due_single()
    monkeypatch.setattr(single, "messages_send_single_ids", real)
    assert len(kicks) == 2  # its own wake-up: the drain had already begun
    assert messages_drain_due_single() == 1
    assert len(infobip.accepted) == 2


def test_a_lost_wake_up_leaves_the_messages_to_beat(
    api, sms_account, infobip, contacts, kicks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for contact in contacts[:3]:
            post(api, contact)
    assert len(kicks) == 1  # ... and that task is lost with Redis' queue
    assert messages_send_due_single() == 3  # sending_tick, every 30 s
    assert len(infobip.accepted) == 3


def test_a_drain_past_its_time_hands_over_to_the_next(
    api, sms_account, infobip, contacts, kicks, django_capture_on_commit_callbacks, monkeypatch
):
    from messaging import single

    monkeypatch.setattr(single, "DUE_BATCH", 2)
    with django_capture_on_commit_callbacks(execute=True):
        for contact in contacts:
            post(api, contact)
    assert len(kicks) == 1
    assert messages_drain_due_single(budget_seconds=0) == 2  # one batch, then a new wake-up
    assert len(kicks) == 2
    assert messages_drain_due_single() == 3
    assert len(infobip.accepted) == 5
