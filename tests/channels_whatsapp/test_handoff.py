"""A batch handed to Meta (no idempotency key) leaves one row saying which of its messages may have
left (messaging.handoff) instead of marking each message: a worker that stops before recording
the outcome leaves those failed as "outcome unknown" and the rest of its claim sent again; a
batch whose outcome is recorded leaves nothing behind."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from messaging.dispatch import campaign_dispatch, messages_claim, messages_free_stale_claims
from messaging.handoff import HandedBatch, batch_handed
from messaging.models import Message
from tests.channels_whatsapp.test_send_errors import _campaign

pytestmark = pytest.mark.django_db


def _stale(claim) -> None:
    """As if the worker holding `claim` had stopped longer ago than the claim timeout."""
    long_ago = timezone.now() - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS + 5)
    Message.objects.filter(claim=claim).update(claimed_at=long_ago)
    HandedBatch.objects.filter(claim=claim).update(handed_at=long_ago)


def test_a_recorded_batch_leaves_no_row(fake):
    _account, campaign = _campaign(fake, ["1111", "2222", "3333"], rate=1000)
    campaign_dispatch(campaign_id=campaign.pk, budget_seconds=2)
    assert set(Message.objects.values_list("status", flat=True)) == {
        "queued"
    }  # accepted by Meta (sent comes by webhook)
    assert not HandedBatch.objects.exists()


def test_a_stopped_worker_leaves_what_it_handed_unknown_and_the_rest_sent_again(fake):
    _account, campaign = _campaign(fake, ["1111", "2222", "3333", "4444"], rate=1000)
    claim = messages_claim(campaign_id=campaign.pk, limit=10)
    ids = sorted(Message.objects.filter(claim=claim).values_list("pk", flat=True))
    assert len(ids) == 4
    # the worker handed three (one of them before this row existed: Message.handed_at) and stopped
    batch_handed(claim=claim, message_ids=ids[:2])
    Message.objects.filter(pk=ids[2]).update(handed_at=timezone.now())
    _stale(claim)

    messages_free_stale_claims()

    unknown = Message.objects.filter(pk__in=ids[:3])
    assert {(m.status, "outcome unknown" in m.reason, m.claim) for m in unknown} == {("failed", True, None)}
    freed = Message.objects.get(pk=ids[3])
    assert (freed.status, freed.claim, freed.handed_at) == ("pending", None, None)
    assert not HandedBatch.objects.exists()  # its claim is held by no message any more
    campaign_dispatch(campaign_id=campaign.pk, budget_seconds=2)
    assert Message.objects.get(pk=ids[3]).status == "queued"
    assert fake.recipients() == {Message.objects.get(pk=ids[3]).to.lstrip("+"): 1}  # the three never again


def test_a_row_of_a_claim_still_held_elsewhere_is_kept(fake):
    """Freeing one campaign's stale claims never forgets another campaign's hand-over."""
    _account, first = _campaign(fake, ["1111", "2222"], rate=1000)
    claim = messages_claim(campaign_id=first.pk, limit=10)
    handed = list(Message.objects.filter(claim=claim).values_list("pk", flat=True))
    batch_handed(claim=claim, message_ids=handed)
    _stale(claim)

    messages_free_stale_claims(campaign_id=first.pk + 1)  # another campaign's: nothing of this one

    assert HandedBatch.objects.filter(claim=claim).exists()
    messages_free_stale_claims()
    assert set(Message.objects.filter(pk__in=handed).values_list("status", flat=True)) == {"failed"}


def test_a_batch_whose_claim_went_stale_during_its_wait_sends_none_of_what_another_worker_took(fake, monkeypatch):
    """Worker A waits on the account's rate limit longer than the claim timeout (a 130429 hold can
    push it a minute); the reaper frees its rows (nothing was handed over yet) and worker B sends
    them. When A wakes it sends none of them and writes nothing over B's rows: one message each."""
    from messaging import sending
    from messaging.channels import adapter
    from messaging.models import Campaign
    from providers.models import ProviderAccount

    account, campaign = _campaign(fake, ["1111", "2222", "3333"], rate=1000)
    real_wait = sending.ratelimit.wait_for
    waits = []

    def long_wait(key, *, count, rate):
        waits.append(key)
        if len(waits) == 1:  # A, holding its claim, "sleeps" past the timeout while B works
            _stale(Message.objects.filter(claim__isnull=False).values_list("claim", flat=True).first())
            messages_free_stale_claims()
            claim_b = messages_claim(campaign_id=campaign.pk, limit=10)
            assert claim_b is not None
            content = adapter("whatsapp").campaign_content(Campaign.objects.get(pk=campaign.pk))
            sending.messages_send_claimed(
                claim=claim_b, account=ProviderAccount.objects.get(pk=account.pk), content=content
            )
            return None
        return real_wait(key, count=count, rate=rate)

    monkeypatch.setattr(sending.ratelimit, "wait_for", long_wait)
    campaign_dispatch(campaign_id=campaign.pk, budget_seconds=2)  # A

    assert sorted(fake.recipients().values()) == [1, 1, 1]
    assert set(Message.objects.values_list("status", "claim")) == {("queued", None)}  # B's outcome stands
    assert not HandedBatch.objects.exists()


def test_a_hand_over_renews_the_claim_so_the_reaper_leaves_the_batch_in_flight(fake):
    """A batch handed over after a long wait (its claim older than the timeout, but nobody took it)
    is not taken for stopped while its requests are out: the hand-over's time renews the claim.
    An id the claim does not hold is not the batch's to send."""
    _account, campaign = _campaign(fake, ["1111", "2222"], rate=1000)
    claim = messages_claim(campaign_id=campaign.pk, limit=1)
    [mine] = Message.objects.filter(claim=claim).values_list("pk", flat=True)
    [other] = Message.objects.exclude(pk=mine).values_list("pk", flat=True)
    long_ago = timezone.now() - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS + 5)
    Message.objects.filter(claim=claim).update(claimed_at=long_ago)  # it waited, but nothing took it yet

    assert batch_handed(claim=claim, message_ids=[mine, other]) == {mine}
    messages_free_stale_claims()

    assert Message.objects.get(pk=mine).claim == claim and Message.objects.get(pk=mine).status == "pending"
    assert HandedBatch.objects.get(claim=claim).message_ids == [mine]
