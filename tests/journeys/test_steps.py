"""Each kind of step, through the engine and the fakes' own books (product.md Journeys)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import ContactList
from contacts.services import contact_list_add
from journeys.engine import enrolments_run_due
from journeys.models import Enrolment, EnrolmentStep
from messaging.delivery import messages_apply_reports
from messaging.models import Message
from providers.base import DeliveryReport
from tests.journeys.conftest import FALLBACK, active_journey, contact

pytestmark = pytest.mark.django_db


def enter(contacts, capture):
    with capture(execute=True):
        contact_list_add(contact_list=ContactList.objects.get(name="Yeni üyeler"), contact_ids=[c.pk for c in contacts])


def report(message: Message, status: str, capture) -> None:
    with capture(execute=True):
        messages_apply_reports(account_id=message.account_id, reports=[DeliveryReport(status=status, key=message.key)])


def later(seconds: int):
    return timezone.now() + timedelta(seconds=seconds)


def time_passes(seconds: int, **filters):
    """As if `seconds` passed since the enrolments arrived at their steps and the messages went."""
    Enrolment.objects.filter(**filters).update(due_at=timezone.now(), arrived_at=later(-seconds))
    Message.objects.exclude(sent_at=None).update(sent_at=later(-seconds))


def test_joining_the_list_sends_the_sms_and_waits_for_its_delivery(
    accounts, infobip, meta, django_capture_on_commit_callbacks
):
    journey = active_journey()
    ayse = contact("+905320000005", attributes={"name": "Ayşe"})
    enter([ayse], django_capture_on_commit_callbacks)
    assert infobip.recipients() == {"905320000005": 1}
    assert [m["text"] for m in infobip.accepted.values()] == ["Merhaba Ayşe"]
    enrolment = Enrolment.objects.get(journey=journey, contact=ayse)
    assert (enrolment.state, enrolment.step) == ("active", "wait")
    assert enrolment.due_at == enrolment.arrived_at + timedelta(seconds=60)
    sms = Message.objects.get(channel="sms")
    assert sms.origin == "journey 'Hoş geldin' step sms"
    assert enrolment.waiting_for == sms.pk

    report(sms, "delivered", django_capture_on_commit_callbacks)  # the report wakes it: no waiting for the timeout
    enrolment.refresh_from_db()
    assert (enrolment.state, enrolment.step) == ("finished", "done")
    path = list(EnrolmentStep.objects.filter(enrolment=enrolment).values_list("step", "branch"))
    assert path == [("sms", "next"), ("wait", "delivered"), ("done", "")]
    assert meta.recipients() == {}  # delivered: no WhatsApp


def test_not_delivered_falls_back_to_whatsapp(accounts, infobip, meta, django_capture_on_commit_callbacks):
    active_journey()
    mehmet = contact("+905320000001")
    enter([mehmet], django_capture_on_commit_callbacks)
    report(Message.objects.get(channel="sms"), "undelivered", django_capture_on_commit_callbacks)
    assert meta.recipients() == {"905320000001": 1}
    step = EnrolmentStep.objects.get(step="wait")
    assert (step.branch, step.reason) == ("not_delivered", "Undelivered")
    assert Enrolment.objects.get().state == "finished"


def test_no_report_within_the_waiting_time_is_not_delivered(
    accounts, infobip, meta, django_capture_on_commit_callbacks
):
    active_journey()
    enter([contact("+905320000009")], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert enrolments_run_due() == 0  # not due yet: nothing moves before the minute is up
    assert meta.recipients() == {}
    time_passes(61)
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    step = EnrolmentStep.objects.get(step="wait")
    assert (step.branch, step.reason) == ("not_delivered", "no delivery report within 60 seconds")
    assert sum(meta.recipients().values()) == 1


def test_the_fallback_checks_whatsapp_opt_in(accounts, infobip, meta, django_capture_on_commit_callbacks):
    active_journey()
    enter([contact("+905320000001", whatsapp=False)], django_capture_on_commit_callbacks)
    report(Message.objects.get(channel="sms"), "undelivered", django_capture_on_commit_callbacks)
    assert meta.recipients() == {}
    whatsapp = EnrolmentStep.objects.get(step="whatsapp")
    assert (whatsapp.branch, whatsapp.reason) == ("not_sent", "No WhatsApp opt-in")
    assert Message.objects.get(channel="whatsapp").status == "skipped"


def test_a_contact_the_rule_refuses_takes_the_not_sent_branch(
    accounts, infobip, meta, django_capture_on_commit_callbacks
):
    active_journey()
    enter([contact("+905320000005", sms=False)], django_capture_on_commit_callbacks)
    assert infobip.recipients() == {}
    sms = EnrolmentStep.objects.get(step="sms")
    assert (sms.branch, sms.reason) == ("not_sent", "Not subscribed to SMS (newsletter)")
    assert sum(meta.recipients().values()) == 1  # its not-sent branch is the WhatsApp template


def test_wait_for_a_duration_and_until_a_time_of_day(accounts, infobip, django_capture_on_commit_callbacks):
    definition = {
        "start": "pause",
        "steps": {
            "pause": {"type": "wait", "seconds": 3600, "next": "morning"},
            "morning": {"type": "wait", "until": "09:30", "next": "sms"},
            "sms": {"type": "send_sms", "text": "Günaydın", "next": ""},
        },
    }
    active_journey(definition)
    enter([contact("+905320000005")], django_capture_on_commit_callbacks)
    enrolment = Enrolment.objects.get()
    assert enrolment.step == "pause" and enrolment.due_at == enrolment.entered_at + timedelta(hours=1)
    Enrolment.objects.update(due_at=timezone.now(), arrived_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    enrolment.refresh_from_db()
    local = timezone.localtime(enrolment.due_at, timezone=__import__("zoneinfo").ZoneInfo("Europe/Istanbul"))
    assert enrolment.step == "morning" and (local.hour, local.minute) == (9, 30)
    assert timedelta(0) < enrolment.due_at - enrolment.arrived_at <= timedelta(days=1)
    assert infobip.recipients() == {}
    Enrolment.objects.update(due_at=timezone.now(), arrived_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    assert infobip.recipients() == {"905320000005": 1}
    assert Enrolment.objects.get().state == "finished"


def test_a_condition_splits_on_the_audience_builders_conditions(accounts, infobip, django_capture_on_commit_callbacks):
    definition = {
        "start": "city",
        "steps": {
            "city": {
                "type": "condition",
                "conditions": {
                    "match": "all",
                    "conditions": [{"type": "attribute", "name": "city", "op": "equals", "value": "İzmir"}],
                },
                "yes": "izmir",
                "no": "",
            },
            "izmir": {"type": "send_sms", "text": "İzmir'e özel", "next": ""},
        },
    }
    active_journey(definition)
    enter(
        [
            contact("+905320000005", attributes={"city": "İzmir"}),
            contact("+905320000006", attributes={"city": "Bursa"}),
        ],
        django_capture_on_commit_callbacks,
    )
    assert infobip.recipients() == {"905320000005": 1}
    assert sorted(EnrolmentStep.objects.filter(step="city").values_list("branch", flat=True)) == ["no", "yes"]
    assert set(Enrolment.objects.values_list("state", flat=True)) == {"finished"}


def test_a_ret_between_steps_stops_the_next_send(accounts, infobip, meta, django_capture_on_commit_callbacks):
    definition = {
        "start": "first",
        "steps": {
            "first": {"type": "send_sms", "text": "Bir", "next": "pause"},
            "pause": {"type": "wait", "seconds": 60, "next": "second"},
            "second": {"type": "send_sms", "text": "İki", "next": ""},
        },
    }
    active_journey(definition)
    ayse = contact("+905320000005")
    enter([ayse], django_capture_on_commit_callbacks)
    assert infobip.recipients() == {"905320000005": 1}
    from consent.contact_changes import consent_opt_out_by_reply

    consent_opt_out_by_reply(recipients=["+905320000005"], origin_ref="test")  # an SMS STOP: a RET
    Enrolment.objects.update(due_at=timezone.now(), arrived_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    assert infobip.recipients() == {"905320000005": 1}  # the second SMS never left
    second = EnrolmentStep.objects.get(step="second")
    assert second.branch == "not_sent" and second.reason
    enrolment = Enrolment.objects.get()
    assert enrolment.state == "finished"


def test_the_whole_path_counts_each_step_once(accounts, infobip, meta, django_capture_on_commit_callbacks):
    active_journey(FALLBACK)
    people = [contact(f"+90532000{n:04d}") for n in (5, 1, 9)]
    enter(people, django_capture_on_commit_callbacks)
    for message in Message.objects.filter(channel="sms"):
        status = {"+905320000005": "delivered", "+905320000001": "undelivered"}.get(message.to)
        if status:
            report(message, status, django_capture_on_commit_callbacks)
    time_passes(61, state="active")
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    assert meta.recipients() == {"905320000001": 1, "905320000009": 1}
    assert EnrolmentStep.objects.filter(step="sms").count() == 3
    assert sorted(EnrolmentStep.objects.filter(step="wait").values_list("branch", flat=True)) == [
        "delivered", "not_delivered", "not_delivered",
    ]  # fmt: skip


def test_a_condition_on_this_sms_being_delivered(accounts, infobip, meta, django_capture_on_commit_callbacks):
    """The condition "SMS received: this SMS": after a plain wait, the message of the send step."""
    definition = {
        "start": "sms",
        "steps": {
            "sms": {"type": "send_sms", "text": "Merhaba", "next": "pause"},
            "pause": {"type": "wait", "seconds": 60, "next": "got-it"},
            "got-it": {"type": "condition", "message": {"of": "sms", "state": "not_delivered"}, "yes": "wa", "no": ""},
            "wa": {"type": "send_whatsapp", "template": "promo", "language": "tr", "next": ""},
        },
    }
    active_journey(definition)
    enter([contact("+905320000005"), contact("+905320000001")], django_capture_on_commit_callbacks)
    for message in Message.objects.filter(channel="sms"):
        report(message, "delivered" if message.to.endswith("5") else "undelivered", django_capture_on_commit_callbacks)
    Enrolment.objects.update(due_at=timezone.now(), arrived_at=later(-61))
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    assert meta.recipients() == {"905320000001": 1}
    assert sorted(EnrolmentStep.objects.filter(step="got-it").values_list("branch", flat=True)) == ["no", "yes"]


def test_the_waiting_time_runs_from_when_the_sms_went(
    accounts, infobip, meta, monkeypatch, django_capture_on_commit_callbacks
):
    """Sending lags behind (a queue): a message not gone at the timeout is waited for, not counted
    as undelivered, and its report decides when it comes."""
    from messaging.single import messages_send_single_ids

    monkeypatch.setattr("messaging.single._queue_many", lambda ids: None)  # the sending workers are behind
    active_journey()
    enter([contact("+905320000005")], django_capture_on_commit_callbacks)
    sms = Message.objects.get(channel="sms")
    assert sms.status == "pending"
    time_passes(61)
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    enrolment = Enrolment.objects.get()
    assert (enrolment.state, enrolment.step) == ("active", "wait")  # still waiting for it to go
    assert not EnrolmentStep.objects.filter(step="wait").exists()
    messages_send_single_ids(message_ids=[sms.pk])  # it goes, 61 s late
    report(Message.objects.get(pk=sms.pk), "delivered", django_capture_on_commit_callbacks)
    assert EnrolmentStep.objects.get(step="wait").branch == "delivered"
    assert meta.recipients() == {}


def test_a_contact_deleted_mid_journey_gets_nothing_more(
    accounts, infobip, meta, monkeypatch, django_capture_on_commit_callbacks
):
    """Deleted while waiting: the enrolment goes with it; deleted between the message being made and
    sent: the message is never sent (the core's rule for a contact that is gone)."""
    from messaging.single import messages_send_single_ids

    active_journey()
    waiting = contact("+905320000001")
    enter([waiting], django_capture_on_commit_callbacks)
    assert infobip.recipients() == {"905320000001": 1}
    waiting.delete()
    time_passes(61)
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    assert Enrolment.objects.count() == 0 and meta.recipients() == {}

    monkeypatch.setattr("messaging.single._queue_many", lambda ids: None)  # made, not yet sent
    gone = contact("+905320000002")
    enter([gone], django_capture_on_commit_callbacks)
    pending = Message.objects.get(to="+905320000002")
    gone.delete()
    messages_send_single_ids(message_ids=[pending.pk])
    pending.refresh_from_db()
    assert (pending.status, pending.reason) == ("skipped", "the contact was deleted")
    assert "905320000002" not in infobip.recipients()
