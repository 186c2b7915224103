"""Campaigns through the Infobip connector against the fake Infobip over real HTTP: the bytes
on the wire, exactly once, retries, the sending rule at start and at send time."""

import json

import pytest

from channels_sms.services import message_send
from consent.selectors import Exclusion
from consent.services import ConsentInput, consent_apply
from messaging.dispatch import campaign_dispatch, messages_claim
from messaging.models import Audience, Campaign, CampaignStatus, Message, MessageStatus
from messaging.selectors import campaign_preview, campaign_statistics
from messaging.sending import messages_send_claimed
from messaging.services import (
    campaign_cancel,
    campaign_create,
    campaign_prepare,
    campaign_start,
)
from tests.consent.factories import MAY_FIRST, record_onay
from tests.contacts.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def subscribed(n, *, prefix="+90532", **kwargs):
    contacts = []
    for i in range(n):
        contact = ContactFactory(phone=f"{prefix}{i:07d}", **kwargs)
        record_onay(contact)  # MESAJ ONAY in the ledger → Subscribed
        contacts.append(contact)
    return contacts


def newsletter(account, **kwargs):
    fields = {"name": "Kasım", "kind": "newsletter", "account": account, "text": "Merhaba {{name|Müşterimiz}}!"}
    fields.update(kwargs)
    return campaign_create(**fields)


def run(campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


def test_a_newsletter_goes_once_to_every_sendable_contact_and_to_no_one_else(
    infobip, infobip_account, iys_sync, django_capture_on_commit_callbacks
):
    ok = subscribed(5)
    ContactFactory(phone="+905330000001", sms_subscription="subscribed")  # no İYS ONAY
    ContactFactory(phone="+905330000002", phone_status="bounced")
    ContactFactory(phone="+905330000003", sms_subscription="not_subscribed")
    ContactFactory(phone=None)
    campaign = newsletter(infobip_account)
    preview = campaign_preview(campaign)
    assert preview.sendable == 5 and preview.audience == 9
    assert {code: n for code, _, n in preview.exclusions} == {
        Exclusion.NO_IYS_ONAY: 1,
        Exclusion.BOUNCED: 1,
        Exclusion.NOT_SUBSCRIBED: 1,
        Exclusion.NO_PHONE: 1,
    }
    assert preview.sample_text == "Merhaba Ayşe!" and preview.estimated_cost is not None

    campaign = run(campaign, django_capture_on_commit_callbacks)
    assert campaign.status == CampaignStatus.DONE and campaign.message_count == 5
    assert sorted(infobip.recipients()) == sorted(c.phone.lstrip("+") for c in ok)
    assert set(infobip.recipients().values()) == {1}
    assert campaign.excluded == {"no_iys_onay": 1, "bounced": 1, "not_subscribed": 1, "no_phone": 1}
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}


def test_the_request_on_the_wire_carries_auth_our_id_turkey_iys_and_the_webhook(
    infobip, infobip_account, iys_sync, django_capture_on_commit_callbacks
):
    [contact] = subscribed(1)
    run(newsletter(infobip_account, text="Şirin İzmir'de {{city}}"), django_capture_on_commit_callbacks)
    [request] = [r for r in infobip.requests if r["path"] == "/sms/3/messages"]
    assert request["headers"]["Authorization"] == "App test-key"
    body = json.loads(request["body"])
    [item] = body["messages"]
    message = Message.objects.get()
    assert item["destinations"] == [{"to": contact.phone[1:], "messageId": message.key}]
    assert item["sender"] == "MARKA"
    assert item["content"] == {"text": "Şirin İzmir'de İzmir", "language": {"languageCode": "TR"}}
    assert item["options"]["regional"]["turkeyIys"] == {"recipientType": "BIREYSEL"}
    assert item["webhooks"]["delivery"]["url"] == infobip_account.webhook_url
    assert message.text == "Şirin İzmir'de İzmir" and message.segments == 1
    assert message.provider_id == message.key


def test_transactional_messages_carry_no_iys_block(infobip, infobip_account, django_capture_on_commit_callbacks):
    ContactFactory(phone="+905320000001")  # subscription None: transactional only
    run(newsletter(infobip_account, kind="transactional", text="Siparişiniz yolda"), django_capture_on_commit_callbacks)
    item = json.loads(infobip.requests[-1]["body"])["messages"][0]
    assert "options" not in item


def test_a_ret_arriving_mid_campaign_stops_the_rest(infobip, infobip_account, iys_sync):
    contacts = subscribed(4)
    campaign = newsletter(infobip_account)
    campaign_start(campaign_id=campaign.pk)  # on_commit not run: we make the rows and dispatch by hand
    assert campaign_prepare(campaign_id=campaign.pk) and Message.objects.count() == 4
    claim = messages_claim(campaign_id=campaign.pk, limit=2)
    messages_send_claimed(claim=claim, account=infobip_account, content=campaign.body)
    late = contacts[3]
    consent_apply(
        changes=[
            ConsentInput(
                recipient=late.phone,
                type="MESAJ",
                status="RET",
                consent_date=MAY_FIRST.replace(day=2),
                source="IYS_WEB",
            )
        ],
        origin="iys_pull",
    )
    campaign_dispatch(campaign_id=campaign.pk)
    assert late.phone[1:] not in infobip.recipients()
    assert len(infobip.recipients()) == 3
    skipped = Message.objects.get(contact=late)
    assert skipped.status == MessageStatus.SKIPPED and skipped.reason == str(Exclusion.NOT_SUBSCRIBED.label)


def test_a_429_is_retried_after_the_wait_and_sends_once(infobip, infobip_account, django_capture_on_commit_callbacks):
    ContactFactory(phone="+905320000001")
    infobip.fail_next_with_429 = 1
    campaign = run(newsletter(infobip_account, kind="transactional"), django_capture_on_commit_callbacks)
    assert campaign.status == CampaignStatus.DONE
    message = Message.objects.get()
    assert message.status == MessageStatus.QUEUED and message.attempts == 2
    assert infobip.recipients() == {"905320000001": 1}


def test_a_lost_answer_is_resent_with_the_same_id_and_infobip_keeps_one(
    infobip, infobip_account, django_capture_on_commit_callbacks
):
    ContactFactory(phone="+905320000001")
    infobip.fail_next_with_500_after_accepting = 1
    campaign = run(newsletter(infobip_account, kind="transactional"), django_capture_on_commit_callbacks)
    assert campaign.status == CampaignStatus.DONE
    assert infobip.duplicates == 1  # the resend was refused as a duplicate id …
    assert infobip.recipients() == {"905320000001": 1}  # … so the number got one message
    assert Message.objects.get().status == MessageStatus.QUEUED


def test_bad_credentials_fail_the_batch_without_retrying(infobip, infobip_account, django_capture_on_commit_callbacks):
    from providers.services import account_install

    account_install(name="Infobip", connector="infobip", values={"base_url": infobip.url, "api_key": "wrong"})
    ContactFactory(phone="+905320000001")
    run(newsletter(infobip_account, kind="transactional"), django_capture_on_commit_callbacks)
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and "API key" in message.reason and message.attempts == 1
    assert not infobip.accepted


def test_a_list_campaign_and_an_alert(infobip, infobip_account, django_capture_on_commit_callbacks):
    on_list = ContactFactory(phone="+905320000001")
    ContactFactory(phone="+905320000002")
    contact_list = ContactListFactory()
    contact_list.contacts.add(on_list)
    run(
        newsletter(infobip_account, kind="transactional", audience=Audience.LIST, contact_list=contact_list),
        django_capture_on_commit_callbacks,
    )
    assert set(infobip.recipients()) == {"905320000001"}
    alert = newsletter(
        infobip_account,
        name="Ops",
        kind="transactional",
        audience=Audience.ALERT,
        alert_phone="0532 999 88 77",
        text="Disk dolu",
    )
    assert alert.alert_phone == "+905329998877"
    run(alert, django_capture_on_commit_callbacks)
    assert infobip.recipients()["905329998877"] == 1


def test_a_scheduled_campaign_waits_for_its_time(infobip_account):
    from datetime import timedelta

    from django.utils import timezone

    from messaging.services import campaigns_start_due

    ContactFactory(phone="+905320000001")
    later = timezone.now() + timedelta(hours=2)
    campaign = newsletter(infobip_account, kind="transactional", send_at=later)
    campaign_start(campaign_id=campaign.pk)
    assert Campaign.objects.get().status == CampaignStatus.SCHEDULED and not Message.objects.exists()
    assert campaigns_start_due(now=later - timedelta(minutes=1)) == []
    assert campaigns_start_due(now=later) == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING and campaign.message_count == 1
    campaign_prepare(campaign_id=campaign.pk)  # what the queued prepare task does
    assert Message.objects.count() == 1


def test_single_sms_follows_the_sending_rule(infobip, infobip_account, iys_sync):
    stranger = message_send(to="+905320000009", text="Kampanya", kind="newsletter", account=infobip_account)
    assert stranger.status == MessageStatus.SKIPPED and not infobip.accepted
    sent = message_send(to="05320000009", text="Kodunuz 1234", kind="transactional", account=infobip_account)
    assert sent.status == MessageStatus.QUEUED and infobip.recipients() == {"905320000009": 1}
    bounced = ContactFactory(phone="+905320000010", phone_status="bounced")
    refused = message_send(to=bounced.phone, text="Kodunuz 1234", kind="transactional", account=infobip_account)
    assert refused.status == MessageStatus.SKIPPED and refused.reason == str(Exclusion.BOUNCED.label)


def test_statistics_count_what_was_sent(infobip, infobip_account, django_capture_on_commit_callbacks):
    ContactFactory(phone="+905320000001")
    campaign = run(newsletter(infobip_account, kind="transactional"), django_capture_on_commit_callbacks)
    stats = campaign_statistics(campaign)
    assert stats.total == 1 and stats.no_report == 1 and stats.delivery_rate is None and stats.segments == 1


def test_rows_are_made_in_chunks_and_sent_while_the_rest_are_made(infobip, infobip_account, settings):
    """A big audience's rows are made chunk by chunk (resumable); dispatch sends each chunk as it
    lands and finishes the campaign only once every row is made. Exactly once throughout."""
    settings.SMS_PREPARE_CHUNK = 3
    contacts = [ContactFactory(phone=f"+90532000{i:04d}") for i in range(7)]
    bounced = ContactFactory(phone="+905320009999", phone_status="bounced")
    campaign = newsletter(infobip_account, kind="transactional")
    campaign_start(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.message_count == 7 and campaign.excluded == {"bounced": 1}
    assert campaign_prepare(campaign_id=campaign.pk, max_chunks=1) is False  # one chunk: 3 contacts
    assert Message.objects.count() == 3
    outcome = campaign_dispatch(campaign_id=campaign.pk)
    assert outcome.sent == 3 and not outcome.done and outcome.wait == 0.5  # more rows are on their way
    assert Campaign.objects.get().status == CampaignStatus.SENDING
    assert campaign_prepare(campaign_id=campaign.pk) is True  # resumes after the last contact done
    assert campaign_prepare(campaign_id=campaign.pk) is True  # and again: nothing more to make
    assert campaign_dispatch(campaign_id=campaign.pk).done
    assert Campaign.objects.get().status == CampaignStatus.DONE
    books = infobip.recipients()
    assert len(books) == 7 and set(books.values()) == {1}
    assert not Message.objects.filter(contact=bounced).exists()
    assert set(Message.objects.values_list("contact_id", flat=True)) == {c.pk for c in contacts}


def test_cancelling_stops_the_making_of_rows(infobip, infobip_account, settings):
    settings.SMS_PREPARE_CHUNK = 2
    for i in range(5):
        ContactFactory(phone=f"+90532100{i:04d}")
    campaign = newsletter(infobip_account, kind="transactional")
    campaign_start(campaign_id=campaign.pk)
    campaign_prepare(campaign_id=campaign.pk, max_chunks=1)
    campaign_cancel(campaign_id=campaign.pk)
    assert campaign_prepare(campaign_id=campaign.pk) is True
    assert Message.objects.count() == 2
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
    assert not infobip.recipients()
