"""Entry (list, API event, consent change, one-off audience), re-entry rules, activation checks,
pause/archive, versions and files (product.md Journeys)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from consent.services import ConsentInput, consent_apply
from contacts.events import event_record
from contacts.models import ContactList
from contacts.services import contact_list_add, contact_list_remove
from journeys.engine import enrolments_run_due
from journeys.models import Enrolment, EnrolmentStep, Journey
from journeys.services import (
    JourneyError,
    activation_problems,
    journey_archive,
    journey_export,
    journey_import,
    journey_move_to_latest,
    journey_pause,
    journey_save_steps,
)
from messaging.models import Segment
from tests.journeys.conftest import FALLBACK, active_journey, contact

pytestmark = pytest.mark.django_db
ONE_SMS = {"start": "sms", "steps": {"sms": {"type": "send_sms", "text": "Merhaba", "next": ""}}}
SMS_THEN_WAIT = {
    "start": "sms",
    "steps": {
        "sms": {"type": "send_sms", "text": "Merhaba", "next": "pause"},
        "pause": {"type": "wait", "seconds": 3600, "next": ""},
    },
}
# SMS_THEN_WAIT with a shorter wait and a goodbye SMS after it
EDITED = {
    "start": "sms",
    "steps": {
        "sms": {"type": "send_sms", "text": "Merhaba", "next": "pause"},
        "pause": {"type": "wait", "seconds": 60, "next": "bye"},
        "bye": {"type": "send_sms", "text": "Görüşürüz", "next": ""},
    },
}


def join(contacts, capture, name="Yeni üyeler"):
    with capture(execute=True):
        contact_list_add(contact_list=ContactList.objects.get(name=name), contact_ids=[c.pk for c in contacts])


def rejoin(contacts, capture):
    contact_list_remove(contact_list=ContactList.objects.get(name="Yeni üyeler"), contact_ids=[c.pk for c in contacts])
    join(contacts, capture)


def finish_waits(capture):
    Enrolment.objects.filter(state="active").update(
        due_at=timezone.now(), arrived_at=timezone.now() - timedelta(days=2)
    )
    with capture(execute=True):
        enrolments_run_due()


@pytest.mark.parametrize(
    "rule, expected",
    [("once", 1), ("one_at_a_time", 2), ("every_time", 3)],
)
def test_re_entry_rules(rule, expected, sms_account, infobip, django_capture_on_commit_callbacks):
    """Joined three times: once ever enters once; one at a time enters again only after finishing
    (the second join comes while the first is still waiting); every time, three times."""
    active_journey(SMS_THEN_WAIT, re_entry=rule)
    ayse = contact("+905320000005")
    join([ayse], django_capture_on_commit_callbacks)
    rejoin([ayse], django_capture_on_commit_callbacks)  # still in it (waiting an hour)
    finish_waits(django_capture_on_commit_callbacks)
    rejoin([ayse], django_capture_on_commit_callbacks)  # after it finished
    assert Enrolment.objects.filter(contact=ayse).count() == expected
    assert infobip.recipients() == {"905320000005": expected}


def test_an_api_event_enters_the_contact(sms_account, infobip, django_capture_on_commit_callbacks):
    active_journey(ONE_SMS, entry="event", entry_event="cart_abandoned")
    ayse = contact("+905320000005")
    with django_capture_on_commit_callbacks(execute=True):
        event_record(contact=ayse, name="order_paid")
        event_record(contact=ayse, name="cart_abandoned", properties={"total": 120})
    enrolment = Enrolment.objects.get()
    assert (enrolment.contact, enrolment.entered_by) == (ayse, "event 'cart_abandoned'")
    assert infobip.recipients() == {"905320000005": 1}


def test_an_event_through_the_public_api_enters_the_contact(sms_account, infobip, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from api.services import api_key_create

    active_journey(ONE_SMS, entry="event", entry_event="cart_abandoned")
    contact("+905320000005", external_id="c-1")
    _key, secret = api_key_create(name="crm", scopes=["events"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/events/", {"contact": "c-1", "name": "cart_abandoned"}, format="json")
    assert response.status_code == 201, response.content
    assert infobip.recipients() == {"905320000005": 1}


def test_a_new_onay_enters_the_contact(sms_account, infobip, django_capture_on_commit_callbacks):
    active_journey(ONE_SMS, entry="consent", entry_consent_type="MESAJ", entry_consent_status="ONAY")
    ayse = contact("+905320000005", sms=False)
    contact("+905320000006", sms=False)
    with django_capture_on_commit_callbacks(execute=True):
        consent_apply(
            changes=[
                ConsentInput(
                    recipient="+905320000005", type="MESAJ", status="ONAY", consent_date=timezone.now(), source="HS_WEB"
                ),
                ConsentInput(
                    recipient="+905320000006", type="MESAJ", status="RET", consent_date=timezone.now(), source="HS_WEB"
                ),
            ],
            origin="admin",
        )
    assert list(Enrolment.objects.values_list("contact", flat=True)) == [ayse.pk]
    assert infobip.recipients() == {"905320000005": 1}  # the ONAY subscribed it, so the newsletter goes


def test_a_one_off_audience_enters_on_activation(sms_account, infobip, django_capture_on_commit_callbacks):
    segment = Segment.objects.create(
        name="İzmir",
        definition={
            "match": "all",
            "conditions": [{"type": "attribute", "name": "city", "op": "equals", "value": "İzmir"}],
        },
    )
    contact("+905320000005", attributes={"city": "İzmir"})
    contact("+905320000006", attributes={"city": "Bursa"})
    with django_capture_on_commit_callbacks(execute=True):
        active_journey(ONE_SMS, entry="audience", entry_segment=segment)
    assert infobip.recipients() == {"905320000005": 1}


@pytest.mark.parametrize(
    "definition, problem",
    [
        ({"start": "a", "steps": {"a": {"type": "wait", "seconds": 5, "next": "a"}}}, "go round in a loop"),
        (
            {"start": "a", "steps": {"a": {"type": "exit"}, "b": {"type": "exit"}}},
            "step b: no branch leads to it",
        ),
        ({"start": "a", "steps": {"a": {"type": "wait", "seconds": 5, "next": "zz"}}}, "does not exist (zz)"),
        ({"start": "a", "steps": {"a": {"type": "wait", "until": "25:00"}}}, "is not a time of day"),
        (
            {"start": "w", "steps": {"w": {"type": "wait_delivery", "of": "w", "seconds": 5}}},
            "choose the send step",
        ),
        ({"start": "a", "steps": {"a": {"type": "send_sms"}}}, "write the text or choose an SMS template"),
    ],
)
def test_a_graph_that_cannot_run_is_refused_in_words(definition, problem):
    journey = Journey.objects.create(name="J")
    with pytest.raises(ValidationError) as caught:
        journey_save_steps(journey=journey, definition=definition)
    assert any(problem in m for m in caught.value.messages), caught.value.messages


def test_a_wait_for_delivery_must_follow_its_send_on_every_path():
    definition = {
        "start": "c",
        "steps": {
            "c": {
                "type": "condition",
                "conditions": {"match": "all", "conditions": [{"type": "field", "field": "email", "op": "is_set"}]},
                "yes": "sms",
                "no": "wait",
            },
            "sms": {"type": "send_sms", "text": "x", "next": "wait"},
            "wait": {"type": "wait_delivery", "of": "sms", "seconds": 60},
        },
    }
    with pytest.raises(ValidationError, match="does not come before it on every path"):
        journey_save_steps(journey=Journey.objects.create(name="J"), definition=definition)


def test_activation_checks_templates_and_accounts(sms_account, wa_account):
    from channels_whatsapp.models import WhatsAppTemplate

    journey = Journey.objects.create(name="J", entry="list", entry_list=ContactList.objects.create(name="L"))
    journey_save_steps(journey=journey, definition=FALLBACK)
    assert activation_problems(journey) == []
    WhatsAppTemplate.objects.filter(name="promo").update(status="PENDING")
    assert activation_problems(journey) == [
        "step whatsapp: the template promo (tr) is pending review: only an approved template can be sent"
    ]
    sms_account.is_active = False
    sms_account.save()
    assert activation_problems(journey)[0].startswith("step sms: no SMS account is installed")
    journey.entry_list = None
    assert activation_problems(journey) == ["choose the list whose new members enter"]


def test_pause_holds_everyone_and_archive_stops_them(sms_account, infobip, django_capture_on_commit_callbacks):
    journey = active_journey(SMS_THEN_WAIT)
    join([contact("+905320000005")], django_capture_on_commit_callbacks)
    journey_pause(journey=journey)
    finish_waits(django_capture_on_commit_callbacks)
    assert Enrolment.objects.get().state == "active"  # paused: the timer came due, nobody moved
    join([contact("+905320000006")], django_capture_on_commit_callbacks)
    assert Enrolment.objects.count() == 1  # paused: nobody enters
    with pytest.raises(JourneyError):
        journey_pause(journey=journey)
    assert journey_archive(journey=journey) == 1
    enrolment = Enrolment.objects.get()
    assert (enrolment.state, enrolment.reason) == ("stopped", "the journey was archived")


def test_editing_an_active_journey_makes_a_version_and_contacts_in_flight_keep_theirs(
    sms_account, infobip, django_capture_on_commit_callbacks
):
    journey = active_journey(SMS_THEN_WAIT)
    join([contact("+905320000005")], django_capture_on_commit_callbacks)
    first = journey.version
    edited = EDITED
    second = journey_save_steps(journey=journey, definition=edited)
    assert (first.number, second.number) == (1, 2)
    join([contact("+905320000006")], django_capture_on_commit_callbacks)
    assert dict(Enrolment.objects.values_list("contact__phone", "version__number")) == {
        "+905320000005": 1, "+905320000006": 2,
    }  # fmt: skip
    finish_waits(django_capture_on_commit_callbacks)
    assert infobip.recipients() == {"905320000005": 1, "905320000006": 2}  # only v2 says goodbye
    assert journey_move_to_latest(journey=journey) == 0  # everyone finished


def test_moving_contacts_in_flight_to_the_latest_version(sms_account, infobip, django_capture_on_commit_callbacks):
    journey = active_journey(SMS_THEN_WAIT)
    join([contact("+905320000005")], django_capture_on_commit_callbacks)
    edited = EDITED
    journey_save_steps(journey=journey, definition=edited)
    assert journey_move_to_latest(journey=journey) == 1
    finish_waits(django_capture_on_commit_callbacks)
    assert infobip.recipients() == {"905320000005": 2}
    assert list(EnrolmentStep.objects.values_list("step", flat=True)) == ["sms", "pause", "bye"]


def test_a_journey_goes_to_a_file_and_back(accounts, tmp_path, capsys):
    journey = active_journey(FALLBACK, name="Karşılama")
    call_command("journey_export", str(journey.pk), "--output", str(tmp_path / "j.json"))
    text = (tmp_path / "j.json").read_text()
    assert journey_export(journey=journey) == text
    Journey.objects.filter(pk=journey.pk).update(name="Eski")
    call_command("journey_import", str(tmp_path / "j.json"))
    copy = Journey.objects.get(name="Karşılama")
    assert (copy.status, copy.version.definition, copy.entry_list) == ("draft", FALLBACK, journey.entry_list)
    assert "Karşılama" in capsys.readouterr().out
    with pytest.raises(JourneyError, match="not JSON"):
        journey_import(text="{oops")
    with pytest.raises(JourneyError, match="no list named"):
        journey_import(text=text.replace("Yeni üyeler", "Yok böyle"))


def test_the_demo_journey_is_made_once_and_can_be_activated(capsys):
    call_command("seed_sms_demo")
    call_command("seed_journey_demo")
    call_command("seed_journey_demo")
    journey = Journey.objects.get(name="Demo: welcome")
    assert Journey.objects.count() == 1 and journey.status == "draft"
    assert activation_problems(journey) == []


def test_a_condition_on_a_message_needs_its_send_before_it():
    definition = {
        "start": "c",
        "steps": {
            "c": {"type": "condition", "message": {"of": "sms", "state": "delivered"}, "yes": "sms"},
            "sms": {"type": "send_sms", "text": "x"},
        },
    }
    with pytest.raises(ValidationError, match="the step sms does not come before it on every path"):
        journey_save_steps(journey=Journey.objects.create(name="J"), definition=definition)
