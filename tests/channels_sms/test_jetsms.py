"""JetSMS: XML send and SOAP report polling, through the fake over real HTTP (providers.md §2)."""

import pytest
from defusedxml import ElementTree as SafeET
from django.utils import timezone

from messaging.dispatch import campaign_dispatch
from messaging.models import Campaign, Message, MessageStatus
from messaging.polling import poll_reports
from messaging.services import campaign_create, campaign_start
from providers.services import account_check, account_install
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory
from tests.fakes.jetsms import FakeJetSms


@pytest.fixture
def jetsms():
    fake = FakeJetSms().start()
    yield fake
    fake.stop()


def install(fake, **overrides):
    values = {
        "xml_url": fake.xml_url,
        "soap_url": fake.soap_url,
        "username": fake.username,
        "password": fake.password,
        "sender": "MARKA",
        **overrides,
    }
    return account_install(name="JetSMS", connector="jetsms", values=values)


def send(account, kind, capture, text):
    campaign = campaign_create(name="c", kind=kind, account=account, text=text)
    with capture(execute=True):
        campaign_start(campaign_id=campaign.pk)
    return campaign


def sends(fake):
    return [SafeET.fromstring(r["body"]) for r in fake.requests if r["path"] == "/SMS-Web8/xmlsms"]


@pytest.mark.django_db
def test_jetsms_sends_xml_and_reports_come_by_polling(jetsms, django_capture_on_commit_callbacks):
    account = install(jetsms)
    check = account_check(account_id=account.pk)
    assert check.ok and "credit left: 1000000" in check.message
    phones = ["+905320000005", "+905320000001", "+905320000002", "+905320000003", "+905320000009"]
    for i, phone in enumerate(phones):
        record_onay(ContactFactory(phone=phone, attributes={"name": f"Ayşe{i}"}))
    send(account, "newsletter", django_capture_on_commit_callbacks, text="Şubat & Mart: {{name}}")
    request = next(r for r in jetsms.requests if r["path"] == "/SMS-Web8/xmlsms")
    assert request["headers"]["Content-Type"] == "text/xml; charset=utf-8"
    assert request["body"].startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    [root] = sends(jetsms)
    assert root.get("type") == "mmmgsd" and root.findtext("outbox-name") == "MARKA"  # one text per number
    texts = {m.findtext("gsmno"): m.findtext("text") for m in root.iter("message")}
    assert texts["5320000005"] == "Şubat & Mart: Ayşe0"  # escaped on the wire, UTF-8, national number
    assert b"&amp;" in request["body"]
    assert len(jetsms.recipients()) == 5 and set(jetsms.recipients().values()) == {1}
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    assert all(pid.startswith("7000001/53200000") for pid in Message.objects.values_list("provider_id", flat=True))

    poll_reports()  # first report: at the operator, except the wrong id
    statuses = dict(Message.objects.values_list("to", "status"))
    assert statuses["+905320000005"] == MessageStatus.SENT and statuses["+905320000003"] == MessageStatus.FAILED
    poll_reports()  # second report: the outcome
    statuses = dict(Message.objects.values_list("to", "status"))
    assert statuses == {
        "+905320000005": MessageStatus.DELIVERED,
        "+905320000001": MessageStatus.UNDELIVERED,
        "+905320000002": MessageStatus.EXPIRED,
        "+905320000003": MessageStatus.FAILED,
        "+905320000009": MessageStatus.SENT,  # the operator never reports: stays sent
    }
    assert Message.objects.get(to="+905320000001").raw_status == "state 3"
    assert poll_reports() == 0  # asking again changes nothing
    soap = [r for r in jetsms.requests if r["path"] == "/ws/soapSMS.asmx"]
    assert soap[-1]["headers"]["SOAPAction"] == '"http://tempuri.org/ReportSMS"'


@pytest.mark.django_db
def test_jetsms_same_text_goes_as_one_smmgsd_request(jetsms, django_capture_on_commit_callbacks):
    account = install(jetsms)
    for i in range(3):
        ContactFactory(phone=f"+90533000000{i}")
    send(account, "transactional", django_capture_on_commit_callbacks, text="Kargonuz yolda")
    [root] = sends(jetsms)
    assert root.get("type") == "smmgsd" and root.findtext("text") == "Kargonuz yolda"
    assert sorted(root.findtext("gsmnos").split(",")) == ["5330000000", "5330000001", "5330000002"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("control", "reason"), [("fail_next_with_90", "system error"), ("fail_next_with_429", "too many")]
)
def test_jetsms_system_error_and_429_are_retried_and_send_once(
    jetsms, django_capture_on_commit_callbacks, control, reason
):
    account = install(jetsms)
    ContactFactory(phone="+905320000005")
    setattr(jetsms, control, 1)
    campaign = send(account, "transactional", django_capture_on_commit_callbacks, text="Merhaba")
    message = Message.objects.get()
    assert message.status == MessageStatus.PENDING and message.attempts == 1 and reason in message.reason
    assert 25 < (message.next_attempt_at - timezone.now()).total_seconds() <= 30  # "retry after 30 s" (§2)
    Message.objects.update(next_attempt_at=timezone.now())  # the 30 s have passed
    campaign_dispatch(campaign_id=campaign.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 2
    assert jetsms.recipients() == {"5320000005": 1}


@pytest.mark.django_db
def test_jetsms_lost_answer_is_not_resent(jetsms, django_capture_on_commit_callbacks):
    """No idempotency key: a 503 after the request went out may have sent it; never twice."""
    account = install(jetsms)
    ContactFactory(phone="+905320000005")
    jetsms.fail_next_with_503 = 1
    send(account, "transactional", django_capture_on_commit_callbacks, text="Merhaba")
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and "not resent" in message.reason
    assert len(sends(jetsms)) == 1


@pytest.mark.django_db
def test_jetsms_account_problems_are_said_plainly(jetsms, django_capture_on_commit_callbacks):
    account = install(jetsms, password="wrong")
    assert "refused the user name or password" in account_check(account_id=account.pk).message
    ContactFactory(phone="+905320000005")
    send(account, "transactional", django_capture_on_commit_callbacks, text="Merhaba")
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and "user name or password" in message.reason

    jetsms.credit = 0
    account = install(jetsms)
    campaign = send(account, "transactional", django_capture_on_commit_callbacks, text="Merhaba")
    message = Message.objects.get(campaign=campaign)
    assert message.status == MessageStatus.FAILED and "no credit" in message.reason
    assert Campaign.objects.get(pk=campaign.pk).status == "done"
    assert not jetsms.groups
