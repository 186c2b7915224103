"""Faults (issue 12, item 17): Redis restarted in the middle of a campaign, losing all it held (the
queued and unacked dispatch tasks, the rate limiter's keys, the dispatchers' leases in the cache).
The campaign still finishes through beat's sending_tick, and by the fake Infobip's own books every
number gets exactly one message and none is lost."""

import time

import pytest

from contacts.models import Contact
from messaging.dispatch import campaign_dispatcher_lease
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.services import campaign_create, campaign_start
from messaging.tasks import sending_tick
from providers.services import account_install


def _campaign(infobip, n: int, rate: int) -> Campaign:
    Contact.objects.bulk_create(Contact(phone=f"+90532{i:07d}") for i in range(n))
    account = account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "rate_limit": rate},
    )  # a limit makes batches of one second's worth
    infobip.post_reports = False  # no web server here to take them
    return campaign_create(name="fault", kind="transactional", account=account, text="Siparişiniz yolda")


def _beat_until_done(campaign: Campaign, *, timeout: float) -> list[dict]:
    """Run sending_tick every second, as beat does every 30 s, until the campaign is done."""
    ticks = []
    deadline = time.monotonic() + timeout
    while Campaign.objects.get(pk=campaign.pk).status != CampaignStatus.DONE:
        assert time.monotonic() < deadline, f"the campaign stalled: {Campaign.objects.get(pk=campaign.pk).status}"
        ticks.append(sending_tick())
        time.sleep(1)
    return ticks


def _assert_each_number_got_exactly_one(infobip, n: int) -> None:
    assert Message.objects.count() == n
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    assert not Message.objects.filter(claim__isnull=False).exists()
    books = infobip.recipients()
    assert len(books) == n, f"{n - len(books)} number(s) got no message"
    assert set(books.values()) == {1}, "a number got two messages"
    assert set(Message.objects.values_list("provider_id", flat=True)) == set(infobip.accepted)


@pytest.mark.services
def test_redis_restarted_mid_campaign_neither_loses_nor_duplicates(private_redis, real_celery, infobip, settings):
    """Redis dies while a batch is on the wire and stays down for a second: the dispatcher's next
    rate-limit reservation fails with its batch claimed, the other dispatch tasks vanish with the
    queue. Beat frees the stranded claim and queues a dispatcher again."""
    n = 3000
    campaign = _campaign(infobip, n, rate=400)  # about 8 s in all
    infobip.response_delay = 0.3
    settings.SMS_CLAIM_TIMEOUT_SECONDS = 2
    real_celery("sending", env={"SMS_CLAIM_TIMEOUT_SECONDS": "2"})
    campaign_start(campaign_id=campaign.pk)  # the tasks go through the private Redis to the worker

    deadline = time.monotonic() + 30
    while not (len(infobip.accepted) >= 800 and infobip.in_flight > 0):
        assert time.monotonic() < deadline, "the worker never had a batch on the wire"
        time.sleep(0.01)
    private_redis.restart(down_for=1.0)
    sent_before_restart = len(infobip.accepted)
    assert sent_before_restart < n  # mid-campaign, not after it

    _beat_until_done(campaign, timeout=45)
    _assert_each_number_got_exactly_one(infobip, n)


@pytest.mark.services
def test_dispatch_tasks_lost_with_redis_are_queued_again_by_beat(private_redis, real_celery, infobip, settings):
    """The campaign's preparing and dispatch tasks were still in Redis' queue when it restarted, so
    no worker will ever run them and no message is claimed: beat's tick alone must notice (the
    campaign's dispatcher lease went with Redis) and queue them again."""
    n = 1000
    campaign = _campaign(infobip, n, rate=500)
    settings.SMS_CLAIM_TIMEOUT_SECONDS = 2
    campaign_start(campaign_id=campaign.pk)  # queued; no worker is running yet
    private_redis.restart(down_for=0.2)
    real_celery("sending", env={"SMS_CLAIM_TIMEOUT_SECONDS": "2"})

    ticks = _beat_until_done(campaign, timeout=30)
    assert ticks[0]["dispatched"] == [campaign.pk] and ticks[0]["freed"] == 0
    _assert_each_number_got_exactly_one(infobip, n)


def test_beat_queues_a_dispatcher_only_for_a_campaign_whose_lease_lapsed(db, infobip, settings):
    """In process (tasks run eagerly): a sending campaign with a live dispatcher lease is left to
    its dispatcher, so ticks never pile dispatchers on a campaign; once the lease is lost (the
    cache emptied, as by a Redis restart) the next tick queues one and the campaign finishes."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    n = 30
    campaign = _campaign(infobip, n, rate=0)
    campaign_start(campaign_id=campaign.pk)  # inside the test's transaction: its tasks are never queued
    campaign_dispatcher_lease(campaign_id=campaign.pk, seconds=60)  # a dispatcher is on its way

    first = sending_tick()
    assert first["dispatched"] == []
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENDING
    assert Message.objects.filter(status=MessageStatus.PENDING).count() == n  # made by the tick, not sent
    assert infobip.accepted == {}

    from django.core.cache import cache

    cache.clear()  # the lease is gone with the cache
    second = sending_tick()
    assert second["dispatched"] == [campaign.pk]
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DONE
    _assert_each_number_got_exactly_one(infobip, n)
    assert sending_tick()["dispatched"] == []  # a done campaign needs no dispatcher
