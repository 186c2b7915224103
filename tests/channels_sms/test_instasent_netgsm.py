"""Instasent (webhook, bulk ≤ 100, inbound STOP) and Netgsm (iysfilter, report polling), each
through its fake over real HTTP."""

import json

import pytest
from django.db.models import Count
from django.utils import timezone

from consent.models import Consent, ConsentChange
from contacts.models import Contact
from messaging.dispatch import campaign_dispatch
from messaging.models import Message, MessageStatus
from messaging.polling import poll_reports
from messaging.services import campaign_create, campaign_start
from providers.services import account_check, account_install
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory
from tests.fakes.instasent import FakeInstasent
from tests.fakes.netgsm import FakeNetgsm


@pytest.fixture
def instasent():
    fake = FakeInstasent().start()
    yield fake
    fake.stop()


@pytest.fixture
def netgsm():
    fake = FakeNetgsm().start()
    yield fake
    fake.stop()


def send(account, kind, django_capture_on_commit_callbacks=None, text="Merhaba {{name}}"):
    campaign = campaign_create(name="c", kind=kind, account=account, text=text)
    if django_capture_on_commit_callbacks is None:
        campaign_start(campaign_id=campaign.pk)
    else:
        with django_capture_on_commit_callbacks(execute=True):
            campaign_start(campaign_id=campaign.pk)
    return campaign


@pytest.mark.django_db(transaction=True)
def test_instasent_sends_in_bulks_of_100_and_takes_reports_and_stop_replies(instasent, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    account = account_install(
        name="Instasent",
        connector="instasent",
        values={"base_url": instasent.url, "token": instasent.token, "sender": "MARKA"},
    )
    assert account_check(account_id=account.pk).ok
    instasent.callback_url = account.webhook_url  # the admin pastes the URL shown on the account page
    Contact.objects.bulk_create(Contact(phone=f"+90533{1000 + i:07d}") for i in range(150))
    Contact.objects.create(phone="+905339990001")
    send(account, "transactional")
    bulks = [json.loads(r["body"]) for r in instasent.requests if r["path"].endswith("/sms/bulk")]
    assert [len(b) for b in bulks] == [100, 51]
    first = bulks[0][0]
    assert instasent.requests[0]["headers"]["Authorization"] == f"Bearer {instasent.token}"
    assert (
        first["from"] == "MARKA"
        and first["to"].startswith("+90")
        and first["clientId"].endswith(str(Message.objects.get(to=first["to"]).pk))
    )
    assert len(instasent.recipients()) == 151 and set(instasent.recipients().values()) == {1}
    instasent.deliver_reports()
    counts = dict(Message.objects.values_list("status").annotate(n=Count("pk")))
    assert counts == {MessageStatus.DELIVERED: 150, MessageStatus.UNDELIVERED: 1}
    assert Contact.objects.get(phone="+905339990001").phone_status == "bounced"  # Instasent's "failed" = bounce
    # a recipient answers STOP: an opt-out in the ledger, so newsletters stop at once
    assert instasent.reply("+905330001007", "STOP") == 200
    consent = Consent.objects.get(recipient="+905330001007")
    assert consent.status == "RET" and consent.source == "HS_MESAJ"
    assert ConsentChange.objects.get(recipient="+905330001007").origin == "inbound"
    assert Contact.objects.get(phone="+905330001007").sms_subscription == "not_subscribed"


@pytest.mark.django_db
def test_instasent_429_and_per_item_errors(instasent, django_capture_on_commit_callbacks):
    account = account_install(
        name="Instasent",
        connector="instasent",
        values={"base_url": instasent.url, "token": instasent.token, "sender": "MARKA"},
    )
    ContactFactory(phone="+905320000005")
    instasent.fail_next_with_429 = 1
    send(account, "transactional", django_capture_on_commit_callbacks)
    message = Message.objects.get()
    assert message.status == MessageStatus.QUEUED and message.attempts == 2
    assert instasent.recipients() == {"+905320000005": 1}


@pytest.mark.django_db
def test_netgsm_checks_iys_by_filter_and_reports_come_by_polling(netgsm, iys_sync, django_capture_on_commit_callbacks):
    account = account_install(
        name="Netgsm",
        connector="netgsm",
        values={"base_url": netgsm.url, "usercode": netgsm.usercode, "password": netgsm.password, "sender": "MARKA"},
    )
    check = account_check(account_id=account.pk)
    assert check.ok and "MARKA" in check.message
    phones = ["+905320000005", "+905320000001", "+905320000002", "+905320000003", "+905320000009", "+905320000077"]
    for phone in phones:
        record_onay(ContactFactory(phone=phone))
    netgsm.ret_numbers.add("5320000077")  # our ledger says ONAY, İYS says RET
    send(account, "newsletter", django_capture_on_commit_callbacks, text="Şubat indirimi")
    [request] = [json.loads(r["body"]) for r in netgsm.requests if r["path"] == "/sms/rest/v2/send"]
    assert request["iysfilter"] == "11" and request["msgheader"] == "MARKA" and request["encoding"] == "TR"
    assert sorted(m["no"] for m in request["messages"]) == sorted(p[3:] for p in phones)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    poll_reports()
    statuses = dict(Message.objects.values_list("to", "status"))
    assert statuses == {
        "+905320000005": MessageStatus.DELIVERED,
        "+905320000001": MessageStatus.UNDELIVERED,
        "+905320000002": MessageStatus.EXPIRED,
        "+905320000003": MessageStatus.REJECTED,
        "+905320000009": MessageStatus.SENT,  # still waiting at the operator
        "+905320000077": MessageStatus.REJECTED,
    }
    assert Contact.objects.get(phone="+905320000001").phone_status == "bounced"  # error 105: wrong number
    assert Consent.objects.get(recipient="+905320000077").status == "RET"  # status 16: İYS refused
    assert poll_reports() == 0  # asking again changes nothing


@pytest.mark.django_db
def test_netgsm_configuration_errors_are_said_plainly(netgsm, django_capture_on_commit_callbacks):
    account = account_install(
        name="Netgsm",
        connector="netgsm",
        values={"base_url": netgsm.url, "usercode": netgsm.usercode, "password": "wrong", "sender": "OTHER"},
    )
    assert "IP is not allowed" in account_check(account_id=account.pk).message
    ContactFactory(phone="+905320000005")
    send(account, "transactional", django_capture_on_commit_callbacks)
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and "password" in message.reason


@pytest.mark.django_db
def test_netgsm_sending_limit_is_retried_later_and_sends_once(netgsm, django_capture_on_commit_callbacks):
    account = account_install(
        name="Netgsm",
        connector="netgsm",
        values={"base_url": netgsm.url, "usercode": netgsm.usercode, "password": netgsm.password, "sender": "MARKA"},
    )
    ContactFactory(phone="+905320000005")
    netgsm.fail_next_with_limit = 1  # code 80: Netgsm's "too many"
    campaign = send(account, "transactional", django_capture_on_commit_callbacks)
    message = Message.objects.get()
    assert message.status == MessageStatus.PENDING and "limit" in message.reason
    assert 55 < (message.next_attempt_at - timezone.now()).total_seconds() <= 60
    Message.objects.update(next_attempt_at=timezone.now())
    campaign_dispatch(campaign_id=campaign.pk)
    assert Message.objects.get().status == MessageStatus.QUEUED
    assert netgsm.recipients() == {"5320000005": 1}
