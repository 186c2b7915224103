"""Frequency cap and quiet hours (product.md Journeys), one policy for campaigns and journeys:
a newsletter in quiet hours waits for their end, one over the cap is not sent (skipped with the
reason); transactional messages bypass both and say so. Seen from the fake Infobip's books."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from contacts.models import Contact, ContactList
from contacts.services import contact_list_add
from journeys.engine import enrolments_run_due
from journeys.models import EnrolmentStep
from messaging.models import Message, SendingPolicy
from messaging.policy import Policy
from messaging.services import campaign_create, campaign_start
from tests.journeys.conftest import active_journey

pytestmark = pytest.mark.django_db
ISTANBUL = ZoneInfo("Europe/Istanbul")


def at(hour, minute=0, day=3):
    return datetime(2026, 12, day, hour, minute, tzinfo=ISTANBUL)


@pytest.mark.parametrize(
    "start, end, now, expected",
    [
        (time(21), time(9), at(22), at(9, day=4)),  # across midnight, before it
        (time(21), time(9), at(3), at(9)),  # across midnight, after it
        (time(21), time(9), at(9), None),  # the end is not quiet any more
        (time(21), time(9), at(20, 59), None),
        (time(1), time(7), at(1), at(7)),  # inside one day
        (time(1), time(7), at(7, 30), None),
        (None, None, at(3), None),
    ],
)
def test_quiet_hours_end(start, end, now, expected):
    assert Policy(quiet_from=start, quiet_until=end).quiet_end(now) == expected


def quiet_now():
    """Quiet hours around this moment (Istanbul): from an hour ago to an hour from now."""
    local = timezone.now().astimezone(ISTANBUL)
    start, end = (local - timedelta(hours=1)).time(), (local + timedelta(hours=1)).time()
    SendingPolicy.objects.create(
        quiet_from=start.replace(second=0, microsecond=0), quiet_until=end.replace(second=0, microsecond=0)
    )


def subscribed(n=1):
    return [
        Contact.objects.create(external_id=f"p{i}", phone=f"+90532100{i:04d}", sms_subscription="subscribed")
        for i in range(n)
    ]


def test_a_newsletter_campaign_waits_out_the_quiet_hours(sms_account, infobip, django_capture_on_commit_callbacks):
    quiet_now()
    subscribed(3)
    campaign = campaign_create(name="Gece", kind="newsletter", account=sms_account, text="Merhaba")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    assert infobip.recipients() == {}
    assert set(Message.objects.values_list("status", flat=True)) == {"pending"}
    SendingPolicy.objects.update(quiet_from=None, quiet_until=None)  # the quiet hours are over
    from messaging.tasks import dispatch_campaign

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_campaign(campaign.pk)
    assert len(infobip.recipients()) == 3


def test_a_transactional_message_goes_in_quiet_hours_and_says_so(
    sms_account, infobip, django_capture_on_commit_callbacks
):
    quiet_now()
    subscribed(1)
    campaign = campaign_create(name="Sipariş", kind="transactional", account=sms_account, text="Siparişiniz yolda")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    assert len(infobip.recipients()) == 1
    assert Message.objects.get().policy_bypass == "transactional: sent despite quiet hours"


def test_a_journeys_newsletter_in_quiet_hours_is_deferred_and_its_wait_starts_when_it_goes(
    sms_account, infobip, django_capture_on_commit_callbacks
):
    quiet_now()
    definition = {
        "start": "sms",
        "steps": {
            "sms": {"type": "send_sms", "text": "Merhaba", "next": "wait"},
            "wait": {"type": "wait_delivery", "of": "sms", "seconds": 60},
        },
    }
    active_journey(definition)
    (ayse,) = subscribed(1)
    with django_capture_on_commit_callbacks(execute=True):
        contact_list_add(contact_list=ContactList.objects.get(name="Yeni üyeler"), contact_ids=[ayse.pk])
    message = Message.objects.get()
    assert infobip.recipients() == {} and message.status == "pending" and message.next_attempt_at > timezone.now()
    from journeys.models import Enrolment

    Enrolment.objects.update(due_at=timezone.now(), arrived_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        enrolments_run_due()
    enrolment = Enrolment.objects.get()
    assert enrolment.step == "wait" and enrolment.state == "active"  # not "not delivered": it has not gone yet
    assert enrolment.due_at == message.next_attempt_at + timedelta(seconds=60)


def test_the_cap_counts_campaigns_and_journeys_together(sms_account, infobip, django_capture_on_commit_callbacks):
    SendingPolicy.objects.create(newsletters_per_day=1)
    (ayse,) = subscribed(1)
    campaign = campaign_create(name="Kasım", kind="newsletter", account=sms_account, text="İndirim")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    assert infobip.recipients() == {"905321000000": 1}
    definition = {
        "start": "promo",
        "steps": {
            "promo": {"type": "send_sms", "text": "Bir indirim daha", "next": "receipt", "not_sent": "receipt"},
            "receipt": {"type": "send_sms", "kind": "transactional", "text": "Faturanız hazır", "next": ""},
        },
    }
    active_journey(definition)
    with django_capture_on_commit_callbacks(execute=True):
        contact_list_add(contact_list=ContactList.objects.get(name="Yeni üyeler"), contact_ids=[ayse.pk])
    assert infobip.recipients() == {"905321000000": 2}  # the campaign's and the receipt, not the second promo
    promo = Message.objects.get(text="Bir indirim daha")
    assert (promo.status, promo.reason) == (
        "skipped",
        "frequency cap: 1 newsletter(s) in the last 24 hours (at most 1)",
    )
    receipt = Message.objects.get(text="Faturanız hazır")
    assert receipt.policy_bypass == "transactional: sent despite frequency cap"
    step = EnrolmentStep.objects.get(step="promo")  # refused when made: the step's "not sent" branch, with why
    assert (step.branch, step.reason) == ("not_sent", promo.reason)


def test_the_policy_page(client, marketer):
    client.force_login(marketer)
    client.cookies.load({"django_language": "en"})
    response = client.get("/admin/messaging/sendingpolicy/")
    assert response.status_code == 302
    change_url = response.url  # the one row, made when first opened
    response = client.post(change_url, {"newsletters_per_day": "0", "quiet_from": "21:00", "quiet_until": ""})
    page = response.content.decode()
    assert "Give both ends of the quiet hours, or neither." in page
    response = client.post(
        change_url,
        {"newsletters_per_day": "2", "newsletters_per_week": "5", "quiet_from": "21:00", "quiet_until": "09:00"},
    )
    assert response.status_code == 302
    policy = SendingPolicy.objects.get()
    assert (policy.newsletters_per_day, policy.quiet_from) == (2, time(21))
