"""Meta's refusals handled as §6.6/§6.7 say, through the fake: 130429 makes every sender through the
account wait, 131056 delays that recipient only, 131048/131064 pause the campaign with the reason
for the admin, and a permanent refusal fails the message with Meta's reason in words."""

import pytest
from django.utils import translation

from channels_whatsapp.models import WhatsAppTemplate
from contacts.models import Contact, ContactList
from messaging.dispatch import campaign_dispatch
from messaging.models import Campaign, Message
from messaging.selectors import campaign_preview
from messaging.services import campaign_create, campaign_prepare, campaign_resume, campaign_start
from providers import ratelimit
from providers.services import account_install

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Account ids repeat from test to test: no test inherits another's reservations."""

    def clear():
        ratelimit._local_tat.clear()
        if settings.REDIS_URL:
            import redis

            client = redis.Redis.from_url(settings.REDIS_URL)
            for key in client.scan_iter("ratelimit:account:*"):
                client.delete(key)

    clear()
    yield
    clear()


BODY = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]


def _campaign(fake, suffixes, rate=80):
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": fake.url, "waba_id": fake.waba_id, "phone_number_id": fake.phone_number_id,
                "access_token": fake.access_token, "app_secret": fake.app_secret, "rate_limit": rate},
    )  # fmt: skip
    fake.add_template("promo", components=BODY)
    template = WhatsAppTemplate.objects.create(
        account=account, name="promo", language="tr", category="MARKETING", status="APPROVED", components=BODY,
        variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, provider_id="1",
    )  # fmt: skip
    people = ContactList.objects.create(name="p")
    people.contacts.add(
        *[Contact.objects.create(whatsapp_number=f"+9054400{s}", whatsapp_consent="opt_in") for s in suffixes]
    )
    campaign = campaign_create(
        name="c", channel="whatsapp", account=account, template=template, audience="list", contact_list=people
    )
    campaign_start(campaign_id=campaign.pk)
    campaign_prepare(campaign_id=campaign.pk)
    return account, campaign


def test_throughput_reached_makes_the_whole_account_wait(fake):
    account, campaign = _campaign(fake, ["0429", "1111", "2222"])
    campaign_dispatch(campaign_id=campaign.pk, budget_seconds=1)
    throttled = Message.objects.get(to="+90544000429")
    assert throttled.status == "pending" and throttled.next_attempt_at is not None
    assert "throughput" in throttled.reason
    # the next reservation on the account waits about the 2 s Meta asked for
    assert ratelimit.reserve(f"account:{account.pk}", count=1, rate=80) > 1.0


def test_a_pair_rate_limit_delays_that_recipient_only(fake):
    account, campaign = _campaign(fake, ["0056", "1111", "2222"])
    campaign_dispatch(campaign_id=campaign.pk, budget_seconds=1)
    delayed = Message.objects.get(to="+90544000056")
    assert delayed.status == "pending" and delayed.handed_at is None  # refused: it never left, it may go again
    assert fake.recipients() == {"90544001111": 1, "90544002222": 1}
    assert ratelimit.reserve(f"account:{account.pk}", count=1, rate=80) < 1.0  # nobody else waits


@pytest.mark.parametrize("suffix", ["0048", "0064"])
def test_meta_asking_to_stop_pauses_the_campaign_and_says_why(fake, suffix):
    _account, campaign = _campaign(fake, [suffix, "1111"], rate=1)  # one a batch: the stop comes first
    campaign_dispatch(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == "paused" and suffix[2:] in campaign.status_reason
    stopped = Message.objects.get(to=f"+9054400{suffix}")
    assert stopped.status in ("failed", "rejected") and "WhatsApp error 1310" in stopped.reason
    with translation.override("en"):
        warnings = " ".join(campaign_preview(campaign).warnings)
    assert "Sending stopped by itself" in warnings and campaign.status_reason in warnings
    campaign_resume(campaign_id=campaign.pk)
    assert Campaign.objects.get(pk=campaign.pk).status_reason == ""


def test_statuses_of_one_message_in_one_webhook_keep_the_furthest_and_the_read_time():
    """WhatsApp posts sent, delivered and read together, in any order: none of them is lost."""
    from datetime import UTC, datetime

    from messaging.delivery import messages_apply_reports
    from providers.base import DeliveryReport

    account = account_install(
        name="WA", connector="whatsapp", values={"waba_id": "1", "phone_number_id": "2", "access_token": "t",
                                                 "app_secret": "s"},
    )  # fmt: skip
    message = Message.objects.create(
        channel="whatsapp", kind="newsletter", account=account, to="+905440000001", status="queued", provider_id="w1"
    )
    read = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    reports = [
        DeliveryReport(status="delivered", key=message.key, provider_id="w1", read_at=read),
        DeliveryReport(status="delivered", key=message.key, provider_id="w1"),
        DeliveryReport(status="sent", key=message.key, provider_id="w1"),
    ]
    assert messages_apply_reports(account_id=account.pk, reports=reports) == 1
    message.refresh_from_db()
    assert message.status == "delivered" and message.read_at == read
