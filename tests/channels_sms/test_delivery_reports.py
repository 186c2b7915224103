"""Delivery reports: the fake Infobip POSTs them to our webhook over real HTTP (live server);
statuses only move forward; a bounce marks the phone Bounced; an İYS refusal goes to the ledger."""

import json
import time

import pytest
import requests

from consent.models import Consent, ConsentChange
from contacts.models import Contact
from messaging.delivery import messages_apply_reports
from messaging.models import Message, MessageStatus
from messaging.selectors import campaign_statistics, sms_received
from messaging.services import campaign_create, campaign_start
from providers.base import DeliveryReport
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory


def wait_until(predicate, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.mark.django_db(transaction=True)
def test_reports_come_back_over_http_and_update_every_message(
    infobip, infobip_account, iys_sync, live_server, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    phones = ["+905320000005", "+905320000001", "+905320000002", "+905320000003", "+905320000016", "+905320000009"]
    for phone in phones:
        record_onay(ContactFactory(phone=phone))
    campaign = campaign_create(name="Kasım", kind="newsletter", account=infobip_account, text="Merhaba")
    campaign_start(campaign_id=campaign.pk)  # transactional test DB: on_commit runs, the dispatch is eager
    assert len(infobip.accepted) == 6
    infobip.wait_for_reports()
    expected = {
        "+905320000005": MessageStatus.DELIVERED,
        "+905320000001": MessageStatus.UNDELIVERED,
        "+905320000002": MessageStatus.EXPIRED,
        "+905320000003": MessageStatus.REJECTED,
        "+905320000016": MessageStatus.REJECTED,
        "+905320000009": MessageStatus.QUEUED,  # the operator never reports: it stays as the provider left it
    }
    wait_until(lambda: dict(Message.objects.values_list("to", "status")) == expected)
    delivered = Message.objects.get(to="+905320000005")
    assert delivered.raw_status == "DELIVERED/DELIVERED_TO_HANDSET" and delivered.price is not None
    assert delivered.done_at is not None
    # a bounce (unknown subscriber) marks the phone Bounced: it is never attempted again
    assert Contact.objects.get(phone="+905320000001").phone_status == "bounced"
    # an İYS refusal from the provider goes back to the consent ledger (and stops newsletters)
    assert Consent.objects.get(recipient="+905320000016").status == "RET"
    change = ConsentChange.objects.filter(recipient="+905320000016").latest("pk")
    assert change.origin == "provider" and change.source == "HS_KARAR"
    assert Contact.objects.get(phone="+905320000016").sms_subscription == "not_subscribed"
    stats = campaign_statistics(campaign)
    assert stats.delivered == 1 and stats.no_report == 1 and stats.delivery_rate == pytest.approx(1 / 3)
    assert list(sms_received(campaign=campaign).values_list("phone", flat=True)) == ["+905320000005"]


@pytest.mark.django_db(transaction=True)
def test_the_webhook_refuses_a_wrong_secret_and_answers_unknown_ids_with_200(infobip_account, live_server):
    url = infobip_account.webhook_url.replace("http://127.0.0.1:8000", live_server.url)
    assert requests.post(url.replace(infobip_account.webhook_secret, "guess"), json={}, timeout=5).status_code == 404
    body = {"results": [{"messageId": "someone-else-1", "status": {"groupName": "DELIVERED", "id": 5}}]}
    assert requests.post(url, json=body, timeout=5).status_code == 200
    assert requests.post(url, data=b"not json", timeout=5).status_code == 200  # logged, never retried forever


@pytest.mark.django_db
def test_a_status_only_moves_forward(infobip_account):
    contact = ContactFactory(phone="+905320000005")
    message = Message.objects.create(
        kind="transactional", account=infobip_account, to=contact.phone, contact=contact, status=MessageStatus.QUEUED
    )
    report = DeliveryReport(key=message.key, status="delivered", raw_status="DELIVERED/DELIVERED_TO_HANDSET")
    late = DeliveryReport(key=message.key, status="sent", raw_status="PENDING/PENDING_ENROUTE")
    assert messages_apply_reports(account_id=infobip_account.pk, reports=[report]) == 1
    assert messages_apply_reports(account_id=infobip_account.pk, reports=[late, report]) == 0  # late and repeated
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.raw_status == "DELIVERED/DELIVERED_TO_HANDSET"
    other = DeliveryReport(key=message.key, status="undelivered")
    assert messages_apply_reports(account_id=infobip_account.pk + 1, reports=[other]) == 0  # another account's


@pytest.mark.django_db
def test_sms_received_condition():
    from datetime import timedelta

    from django.utils import timezone

    from providers.models import ProviderAccount

    account = ProviderAccount.objects.create(name="c", connector="console", channel="sms")
    a, b, c = ContactFactory(), ContactFactory(), ContactFactory()
    now = timezone.now()
    for contact, kind, status, age in [
        (a, "newsletter", "delivered", 1),
        (a, "newsletter", "delivered", 3),
        (a, "transactional", "delivered", 1),
        (b, "newsletter", "sent", 1),  # no report from the operator
        (b, "transactional", "undelivered", 1),
    ]:
        m = Message.objects.create(kind=kind, account=account, to=contact.phone, contact=contact, status=status)
        Message.objects.filter(pk=m.pk).update(created_at=now - timedelta(days=age))
    ids = lambda qs: set(qs.values_list("pk", flat=True))  # noqa: E731
    assert ids(sms_received()) == {a.pk}
    assert ids(sms_received(count_unreported=True)) == {a.pk, b.pk}
    assert ids(sms_received(kind="newsletter", min_times=2)) == {a.pk}
    assert ids(sms_received(kind="newsletter", since=now - timedelta(days=2))) == {a.pk}
    assert ids(sms_received(kind="newsletter", min_times=2, since=now - timedelta(days=2))) == set()
    assert ids(sms_received(on_date=timezone.localdate(now - timedelta(days=3)))) == {a.pk}
    assert ids(sms_received(min_times=0, max_times=0)) == {b.pk, c.pk}  # never received one
    assert sms_received().get(pk=a.pk).sms_received == 3


def test_infobip_dlr_payload_parses_like_the_docs_example():
    from providers.infobip import InfobipConnector

    body = json.dumps(
        {
            "results": [
                {
                    "bulkId": "b",
                    "messageId": "p1-7",
                    "to": "905321234567",
                    "sentAt": "2025-05-01T10:00:00.000+0000",
                    "doneAt": "2025-05-01T10:00:07.000+0000",
                    "messageCount": 2,
                    "price": {"pricePerMessage": 0.01},
                    "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
                    "error": {"groupId": 0, "groupName": "Ok", "id": 0, "name": "NO_ERROR", "permanent": False},
                }
            ]
        }
    ).encode()
    [report] = InfobipConnector(settings={}, credentials={}).parse_webhook(body=body, headers={}).reports
    assert report.status == "delivered" and report.key == "p1-7" and report.segments == 2
    assert report.done_at.year == 2025 and str(report.price) == "0.01" and not report.bounce
