"""Exactly once under SIGKILL on WhatsApp: Meta has no idempotency key, so a real worker killed
while its requests are on the wire leaves messages whose outcome is unknown; they are failed as
such, never sent again. By the fake Meta's books no number gets two messages, and every message
row ends accepted or failed with the reason (none stays pending, none is lost silently)."""

import signal
import time

from contacts.models import Contact
from messaging.dispatch import messages_free_stale_claims
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.services import campaign_create, campaign_start
from providers.services import account_install
from tests.fakes.whatsapp import FakeWhatsApp

BODY = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]


def test_a_worker_killed_mid_campaign_never_sends_a_whatsapp_twice(real_celery, settings):
    from channels_whatsapp.models import WhatsAppTemplate

    meta = FakeWhatsApp().start()
    try:
        n = 300
        Contact.objects.bulk_create(
            Contact(whatsapp_number=f"+9054{i:06d}11", whatsapp_consent="opt_in", attributes={"name": f"K{i}"})
            for i in range(n)
        )
        account = account_install(
            name="WA",
            connector="whatsapp",
            values={"base_url": meta.url, "waba_id": meta.waba_id, "phone_number_id": meta.phone_number_id,
                    "access_token": meta.access_token, "app_secret": meta.app_secret, "rate_limit": 200},
        )  # fmt: skip
        meta.add_template("promo", components=BODY)
        template = WhatsAppTemplate.objects.create(
            account=account, name="promo", language="tr", category="MARKETING", status="APPROVED", components=BODY,
            variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, provider_id="1",
        )  # fmt: skip
        meta.response_delay = 0.3
        worker = real_celery("sending", env={"SMS_CLAIM_TIMEOUT_SECONDS": "2"})
        campaign = campaign_create(name="kill", channel="whatsapp", account=account, template=template)
        campaign_start(campaign_id=campaign.pk)

        deadline = time.monotonic() + 60
        while not (len(meta.accepted) >= 50 and meta.in_flight > 0):
            assert time.monotonic() < deadline, "the worker never had requests on the wire"
            time.sleep(0.01)
        worker.kill(signal.SIGKILL)  # mid-request: Meta takes them, the worker never records them
        time.sleep(meta.response_delay + 0.3)
        assert Message.objects.filter(status=MessageStatus.PENDING, claim__isnull=False).exists()

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
        books = meta.recipients()
        assert set(books.values()) == {1}, "a number got two messages"
        assert Message.objects.count() == n
        statuses = dict(Message.objects.values_list("to", "status"))
        unknown = Message.objects.filter(status=MessageStatus.FAILED, reason__contains="outcome unknown")
        assert set(statuses.values()) <= {MessageStatus.QUEUED, MessageStatus.FAILED}
        assert unknown.count() == Message.objects.filter(status=MessageStatus.FAILED).count() > 0
        assert unknown.count() <= account.connector_instance().max_batch  # at most the batch on the wire
        # every number Meta never got has its row failed with the reason: nothing lost silently
        never_sent = {to for to, s in statuses.items() if to[1:] not in books}
        assert never_sent <= set(unknown.values_list("to", flat=True))
        assert all(statuses[f"+{digits}"] in (MessageStatus.QUEUED, MessageStatus.FAILED) for digits in books)
    finally:
        meta.stop()
