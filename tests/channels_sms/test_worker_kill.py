"""Exactly once under SIGKILL: a real worker sending a campaign through the fake Infobip is
killed mid-batch (the request is on the wire); another worker finishes. By the fake's own books
every number gets exactly one message, and no message row is lost."""

import signal
import time

from contacts.models import Contact
from messaging.dispatch import messages_free_stale_claims
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.services import campaign_create, campaign_start
from providers.services import account_install


def test_a_worker_killed_mid_campaign_neither_loses_nor_duplicates(real_celery, infobip, settings):
    n = 300
    Contact.objects.bulk_create(Contact(phone=f"+90532{i:07d}") for i in range(n))
    account = account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "rate_limit": 100},
    )  # a limit of 100/s makes batches of 100
    infobip.response_delay = 0.4
    worker = real_celery("sending", env={"SMS_CLAIM_TIMEOUT_SECONDS": "2"})
    campaign = campaign_create(name="kill", kind="transactional", account=account, text="Siparişiniz yolda")
    campaign_start(campaign_id=campaign.pk)  # the dispatch task goes through Redis to the worker

    deadline = time.monotonic() + 60
    while not (len(infobip.accepted) >= 100 and infobip.in_flight > 0):
        assert time.monotonic() < deadline, "the worker never had a batch on the wire"
        time.sleep(0.02)
    worker.kill(signal.SIGKILL)  # mid-request: the fake accepts the batch, the worker never records it
    time.sleep(infobip.response_delay + 0.2)
    stranded = Message.objects.filter(status=MessageStatus.PENDING, claim__isnull=False).count()
    assert stranded > 0

    real_celery("sending", env={"SMS_CLAIM_TIMEOUT_SECONDS": "2"})
    time.sleep(2.1)
    settings.SMS_CLAIM_TIMEOUT_SECONDS = 2
    messages_free_stale_claims()  # what beat's sending_tick does every 30 s
    from messaging.tasks import dispatch_campaign

    dispatch_campaign.delay(campaign.pk)
    deadline = time.monotonic() + 90
    while Campaign.objects.get(pk=campaign.pk).status != CampaignStatus.DONE:
        assert time.monotonic() < deadline, "the campaign did not finish after the restart"
        time.sleep(0.1)
    assert Message.objects.count() == n
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}
    books = infobip.recipients()
    assert len(books) == n and set(books.values()) == {1}, "a number got two messages or none"
    assert infobip.duplicates >= 1  # the stranded batch was sent again and Infobip kept one of each
