"""Issue 12, the sending rule: a deleted contact's message is never sent; "transactional" is a
permission of its own, recorded and shown; a delivery report that moves nothing has no side effect;
the audience filter takes only the operators the product offers."""

import time
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_sms.services import message_send
from consent.models import Consent, ConsentChange
from contacts.models import Contact, ContactList, ContactListMembership, PhoneStatus
from messaging.delivery import messages_apply_reports
from messaging.models import Audience, Campaign, CampaignStatus, Message, MessageStatus, message_key
from messaging.services import (
    CampaignError,
    campaign_create,
    campaign_pause,
    campaign_prepare,
    campaign_resume,
    campaign_start,
    campaign_validate,
)
from providers.base import DeliveryReport
from providers.roles import ADMIN, MARKETER
from providers.services import account_install

pytestmark = pytest.mark.django_db


def _contacts(n, **fields):
    return [
        Contact.objects.create(
            phone=f"+90532{i:07d}", sms_subscription="subscribed", attributes={"name": f"Ad{i}"}, **fields
        )
        for i in range(n)
    ]


# --- 1. a contact deleted between its message row and the dispatch ---------------------------------


def test_a_campaign_message_whose_contact_was_deleted_is_never_sent(
    infobip, infobip_account, django_capture_on_commit_callbacks
):
    first, gone, last = _contacts(3)
    campaign = campaign_create(name="sale", kind="transactional", account=infobip_account, text="Indirim {{name}}")
    with django_capture_on_commit_callbacks(execute=False):  # no dispatch yet: rows made, then paused
        campaign_start(campaign_id=campaign.pk)
    assert campaign_prepare(campaign_id=campaign.pk)
    campaign_pause(campaign_id=campaign.pk)
    gone_pk = gone.pk
    gone.delete()  # Message.contact becomes NULL
    with django_capture_on_commit_callbacks(execute=True):
        campaign_resume(campaign_id=campaign.pk)

    assert set(infobip.recipients()) == {first.phone[1:], last.phone[1:]}
    assert all("{{" not in message["text"] for message in infobip.accepted.values())
    skipped = Message.objects.get(addressed_contact_id=gone_pk)
    assert skipped.contact_id is None
    assert (skipped.status, skipped.reason) == (MessageStatus.SKIPPED, "the contact was deleted")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DONE


def test_an_alert_to_a_number_of_no_contact_still_goes_with_its_defaults(
    infobip, infobip_account, django_capture_on_commit_callbacks
):
    campaign = campaign_create(
        name="alert",
        kind="transactional",
        account=infobip_account,
        audience=Audience.ALERT,
        alert_phone="+905559998877",
        text="Sistem uyarısı {{name|ekip}}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    assert [m["text"] for m in infobip.accepted.values()] == ["Sistem uyarısı ekip"]  # rendered, never raw


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deleted=st.lists(st.booleans(), min_size=1, max_size=8),
    kind=st.sampled_from(["transactional", "newsletter"]),
)
def test_no_deleted_contact_is_ever_sent_to_whatever_is_deleted(
    infobip, infobip_account, deleted, kind, django_capture_on_commit_callbacks
):
    Message.objects.all().delete()
    Campaign.objects.all().delete()
    Contact.objects.all().delete()
    infobip.accepted.clear()
    contacts = _contacts(len(deleted))
    campaign = campaign_create(name="fuzz", kind=kind, account=infobip_account, text="Merhaba {{name}}")
    with django_capture_on_commit_callbacks(execute=False):
        campaign_start(campaign_id=campaign.pk)
    campaign_prepare(campaign_id=campaign.pk)
    for contact, gone in zip(contacts, deleted, strict=True):
        if gone:
            contact.delete()
    from messaging.dispatch import campaign_dispatch

    campaign_dispatch(campaign_id=campaign.pk)
    alive = {c.phone[1:] for c, gone in zip(contacts, deleted, strict=True) if not gone}
    assert set(infobip.recipients()) == alive
    assert Message.objects.filter(status=MessageStatus.SKIPPED).count() == sum(deleted)


@pytest.mark.services
def test_a_worker_never_sends_to_a_contact_deleted_while_paused(real_celery, infobip):
    from tests.services import require_postgres

    require_postgres()
    contacts = _contacts(40)
    account = account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "rate_limit": 10},
    )  # 10/s: four batches, so the pause lands mid-campaign
    real_celery("sending")
    campaign = campaign_create(name="worker", kind="transactional", account=account, text="Indirim {{name}}")
    campaign_start(campaign_id=campaign.pk)
    deadline = time.monotonic() + 60
    while not infobip.accepted:
        assert time.monotonic() < deadline, "the worker never sent"
        time.sleep(0.02)
    campaign_pause(campaign_id=campaign.pk)
    time.sleep(1.5)  # the batch on the wire is recorded; the dispatcher sees the pause
    sent = set(infobip.recipients())
    victims = [c for c in contacts if c.phone[1:] not in sent]
    assert victims, "everything was sent before the pause"
    Contact.objects.filter(pk__in=[c.pk for c in victims]).delete()
    campaign_resume(campaign_id=campaign.pk)
    deadline = time.monotonic() + 60
    while Campaign.objects.get(pk=campaign.pk).status != CampaignStatus.DONE:
        assert time.monotonic() < deadline, "the campaign did not finish"
        time.sleep(0.1)
    assert not {c.phone[1:] for c in victims} & set(infobip.recipients())
    assert Message.objects.filter(status=MessageStatus.SKIPPED, reason="the contact was deleted").count() == len(
        victims
    )
    assert all("{{" not in m["text"] for m in infobip.accepted.values())


# --- 2. transactional is a permission ---------------------------------------------------------------


def test_only_admins_have_the_transactional_permission_by_role():
    perm = Permission.objects.get(codename="send_transactional")
    assert Group.objects.get(name=ADMIN).permissions.filter(pk=perm.pk).exists()
    assert not Group.objects.get(name=MARKETER).permissions.filter(pk=perm.pk).exists()


def _form_data(account, **overrides):
    data = {
        "name": "BIG SALE",
        "kind": "transactional",
        "account": account.pk,
        "sender": "MARKA",
        "text": "BIG SALE today",
        "audience": "everyone",
        "audience_filter": "{}",
        "alert_phone": "",
        "send_at": "",
    }
    data.update(overrides)
    return data


def test_a_marketer_cannot_choose_transactional(client, marketer, infobip_account):
    client.force_login(marketer)
    response = client.post(reverse("admin:channels_sms_smscampaign_add"), _form_data(infobip_account))
    assert response.status_code == 200
    assert "you may not send transactional messages" in response.content.decode()
    assert not Campaign.objects.exists()
    with pytest.raises(ValidationError):
        campaign_create(name="x", kind="transactional", account=infobip_account, text="x", acting_user=marketer)
    with pytest.raises(ValidationError):  # the test send is no way around it
        message_send(
            to="+905321112233", text="BIG SALE", kind="transactional", account=infobip_account, acting_user=marketer
        )
    # a newsletter is the marketer's to make
    response = client.post(
        reverse("admin:channels_sms_smscampaign_add"), _form_data(infobip_account, kind="newsletter")
    )
    assert response.status_code == 302


def test_an_admin_choosing_transactional_is_recorded_on_the_campaign_its_history_and_preview(
    client, panel_admin, infobip_account
):
    client.force_login(panel_admin)
    response = client.post(reverse("admin:channels_sms_smscampaign_add"), _form_data(infobip_account))
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.transactional_chosen_by == panel_admin
    assert campaign.transactional_chosen_by_name == panel_admin.username
    assert campaign.transactional_chosen_at is not None
    assert LogEntry.objects.filter(object_id=str(campaign.pk), change_message__contains="transactional").exists()
    client.cookies.load({"django_language": "en"})
    preview = client.get(
        reverse("admin:channels_sms_smscampaign_preview", args=[campaign.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "subscription and İYS are not checked" in preview.content.decode()
    assert panel_admin.username in preview.content.decode()


def test_a_marketer_granted_the_permission_may_choose_it(client, marketer, infobip_account):
    marketer.user_permissions.add(Permission.objects.get(codename="send_transactional"))
    client.force_login(marketer)
    response = client.post(reverse("admin:channels_sms_smscampaign_add"), _form_data(infobip_account))
    assert response.status_code == 302
    assert Campaign.objects.get().transactional_chosen_by_name == "marketer"


def test_a_marketer_cannot_rewrite_an_admins_transactional_campaign(client, marketer, panel_admin, infobip_account):
    campaign = campaign_create(
        name="otp", kind="transactional", account=infobip_account, text="Kodunuz {{code}}", acting_user=panel_admin
    )
    client.force_login(marketer)
    url = reverse("admin:channels_sms_smscampaign_change", args=[campaign.pk])
    response = client.post(url, _form_data(infobip_account, name="otp", text="BIG SALE"))
    assert response.status_code == 200
    assert Campaign.objects.get(pk=campaign.pk).text == "Kodunuz {{code}}"


def test_a_transactional_campaign_nobody_allowed_confirmed_does_not_start(infobip_account):
    campaign = campaign_create(name="legacy", kind="newsletter", account=infobip_account, text="x")
    Campaign.objects.filter(pk=campaign.pk).update(kind="transactional")  # as made before the permission
    with pytest.raises(CampaignError, match="confirmed"):
        campaign_start(campaign_id=campaign.pk)


def test_the_marketers_test_send_offers_newsletter_only(client, marketer, infobip_account):
    campaign = campaign_create(name="n", kind="newsletter", account=infobip_account, text="x")
    client.force_login(marketer)
    page = client.get(reverse("admin:channels_sms_smscampaign_preview", args=[campaign.pk])).content.decode()
    assert 'value="newsletter"' in page and 'value="transactional"' not in page


# --- 3. a report that moves nothing has no side effect ---------------------------------------------


def test_a_late_undelivered_after_delivered_changes_nothing(infobip_account, iys_sync):
    contact = Contact.objects.create(phone="+905321234567", sms_subscription="subscribed")
    message = Message.objects.create(
        channel="sms",
        kind="newsletter",
        account=infobip_account,
        to=contact.phone,
        contact=contact,
        status=MessageStatus.SENT,
        provider_id="p1",
    )
    key = message_key(message.pk)
    delivered = DeliveryReport(status="delivered", key=key, raw_status="DELIVERED", price=Decimal("0.02"))
    assert messages_apply_reports(account_id=infobip_account.pk, reports=[delivered]) == 1
    late = DeliveryReport(
        status="undelivered",
        key=key,
        raw_status="UNDELIVERABLE",
        price=Decimal("9.99"),
        bounce=True,
        consent_refused=True,
        segments=7,
    )
    assert messages_apply_reports(account_id=infobip_account.pk, reports=[late]) == 0
    message.refresh_from_db()
    assert (message.status, message.price, message.raw_status) == ("delivered", Decimal("0.02"), "DELIVERED")
    assert message.segments != 7
    contact.refresh_from_db()
    assert contact.phone_status == PhoneStatus.ACTIVE
    assert not ConsentChange.objects.exists() and not Consent.objects.exists()


def test_a_report_that_moves_the_status_still_bounces(infobip_account):
    contact = Contact.objects.create(phone="+905321234568")
    message = Message.objects.create(
        channel="sms", kind="newsletter", account=infobip_account, to=contact.phone, contact=contact, status="sent"
    )
    report = DeliveryReport(status="undelivered", key=message_key(message.pk), bounce=True, price=Decimal("0.01"))
    assert messages_apply_reports(account_id=infobip_account.pk, reports=[report]) == 1
    contact.refresh_from_db()
    message.refresh_from_db()
    assert contact.phone_status == PhoneStatus.BOUNCED and message.price == Decimal("0.01")


# --- 7. the audience filter ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"name__regex": "(a+)+$"}, "not a field or attribute name"),
        ({"city__contains": "İz"}, "not a field or attribute name"),
        ({"sms_subscription": "bogus"}, "is one of"),
        ({"phone_status": 3}, "takes text"),
        ({"city": {"$gt": 1}}, "takes text, a number or true/false"),
        ({"city": []}, "is empty"),
        (["city"], "must be an object"),
    ],
)
def test_the_filter_refuses_any_other_operator_in_words(infobip_account, spec, words):
    campaign = Campaign(
        name="f", kind="newsletter", account=infobip_account, sender="MARKA", text="x",
        audience=Audience.FILTER, audience_filter=spec,
    )  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        campaign_validate(campaign)
    assert words in " ".join(caught.value.message_dict["audience_filter"])


def test_a_new_campaign_takes_no_json_filter_any_more(client, panel_admin, infobip_account):
    """Segments replaced the JSON filter (tests/messaging/test_segment_pages.py refuses a hostile
    attribute name there); a new campaign cannot be aimed at a filter, so none is ever a query."""
    client.force_login(panel_admin)
    client.cookies.load({"django_language": "en"})
    data = _form_data(infobip_account, kind="newsletter", audience="filter", audience_filter='{"city__contains": "x"}')
    response = client.post(reverse("admin:channels_sms_smscampaign_add"), data)
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "Select a valid choice. filter is not one of the available choices." in response.content.decode()


def test_a_valid_filter_selects_by_fields_attributes_and_lists(infobip_account):
    izmir = Contact.objects.create(phone="+905320000001", attributes={"city": "İzmir", "age": 30, "vip": True})
    Contact.objects.create(phone="+905320000002", attributes={"city": "Ankara", "age": 30})
    Contact.objects.create(phone="+905320000003", attributes={"city": "İzmir", "age": 41}, phone_status="bounced")
    from messaging.selectors import campaign_audience

    def audience(spec):
        campaign = Campaign(audience=Audience.FILTER, audience_filter=spec)
        return set(campaign_audience(campaign).values_list("phone", flat=True))

    assert audience({"city": "İzmir", "age": 30}) == {izmir.phone}
    assert audience({"city": ["İzmir", "Ankara"], "phone_status": "active"}) == {"+905320000001", "+905320000002"}
    assert audience({"vip": True}) == {izmir.phone}
    assert audience({"name__regex": "x"}) == set()  # saved before the check: nobody, never a query


def test_a_list_audience_is_untouched(infobip_account):
    contact_list = ContactList.objects.create(name="VIP")
    contact = Contact.objects.create(phone="+905320000009")
    ContactListMembership.objects.create(contact_list=contact_list, contact=contact)
    campaign = Campaign(audience=Audience.LIST, contact_list=contact_list)
    from messaging.selectors import campaign_audience

    assert list(campaign_audience(campaign)) == [contact]


# --- from the review: no way around the transactional permission ---------------------------------------


def test_a_marketer_saving_an_unconfirmed_transactional_campaign_confirms_nothing(client, marketer, infobip_account):
    campaign = campaign_create(name="legacy", kind="newsletter", account=infobip_account, text="BIG SALE")
    Campaign.objects.filter(pk=campaign.pk).update(kind="transactional", status=CampaignStatus.SCHEDULED)
    client.force_login(marketer)
    response = client.post(reverse("admin:channels_sms_smscampaign_change", args=[campaign.pk]), {})
    assert response.status_code in (200, 302)
    campaign.refresh_from_db()
    assert campaign.transactional_chosen_at is None and campaign.transactional_chosen_by_name == ""
    with pytest.raises(CampaignError, match="confirmed"):
        campaign_start(campaign_id=campaign.pk)


def test_a_template_edited_after_confirmation_changes_nothing_a_transactional_campaign_sends(
    infobip, infobip_account, panel_admin, django_capture_on_commit_callbacks
):
    from channels_sms.models import SmsTemplate

    Contact.objects.create(phone="+905321110000")
    template = SmsTemplate.objects.create(name="otp", text="Kodunuz 1234")
    campaign = campaign_create(
        name="otp", kind="transactional", account=infobip_account, template=template, acting_user=panel_admin
    )
    SmsTemplate.objects.filter(pk=template.pk).update(text="BIG SALE today")  # a marketer may edit templates
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    assert [m["text"] for m in infobip.accepted.values()] == ["Kodunuz 1234"]


def test_a_paused_unconfirmed_transactional_campaign_does_not_resume(infobip_account):
    campaign = campaign_create(name="legacy", kind="newsletter", account=infobip_account, text="x")
    Campaign.objects.filter(pk=campaign.pk).update(kind="transactional", status=CampaignStatus.PAUSED)
    with pytest.raises(CampaignError, match="confirmed"):
        campaign_resume(campaign_id=campaign.pk)


def test_a_single_send_needs_an_sms_account(db):
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"waba_id": "1022", "phone_number_id": "1065", "access_token": "t", "app_secret": "s"},
    )
    with pytest.raises(ValidationError, match="does not send SMS"):
        message_send(to="+905321112233", text="x", kind="transactional", account=account)


@pytest.mark.parametrize("operator", ["regex", "contains", "icontains", "startswith", "isnull", "has_key"])
def test_a_one_key_filter_named_like_a_lookup_is_an_attribute_name(infobip_account, operator):
    from messaging.selectors import campaign_audience

    odd = Contact.objects.create(phone="+905320000010", attributes={operator: "(a+)+$"})
    Contact.objects.create(phone="+905320000011", attributes={"city": "aaaaaaaaaaaaaaaaaaaaaaaa!"})
    campaign = Campaign(audience=Audience.FILTER, audience_filter={operator: "(a+)+$"})
    assert list(campaign_audience(campaign)) == [odd]
