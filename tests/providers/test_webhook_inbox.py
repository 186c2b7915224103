"""The received-webhook inbox (providers.inbox): posts are stored by the view and drained many at a
time, each account's events handed over once a batch, in the order they came; a post that fails is
kept for a retry without holding back the others; a stopped worker's claim is freed; kicks are
coalesced; a broker that is down loses nothing."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from messaging.models import Message, MessageStatus, MessageStatusEvent
from providers import inbox
from providers.models import ProviderAccount, WebhookPost
from providers.services import account_install
from providers.snapshots import ACTIVE_ACCOUNTS
from providers.tasks import process_webhook, webhooks_tick
from providers.views import RECENT_SECONDS
from tests.fakes.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.django_db
HANDLER = "tests.providers.test_webhook_inbox.record"
calls: list[tuple[int, list[str], list[str]]] = []


def record(*, account_id, events):
    """A WEBHOOK_EVENT_HANDLERS entry that keeps what it was given (and fails on a poisoned post)."""
    keys = [r.key for r in events.reports]
    if "poison" in keys:
        raise RuntimeError("the handler failed on this post")
    calls.append((account_id, keys, [m.text for m in events.inbound]))


@pytest.fixture(autouse=True)
def _clean():
    calls.clear()
    cache.delete(inbox.KICK_KEY)
    yield
    calls.clear()


def _account(name="WA", secret="app-secret", base_url="http://127.0.0.1:9"):  # noqa: S107
    return account_install(
        name=name,
        connector="whatsapp",
        values={"base_url": base_url, "waba_id": "102290129340398", "phone_number_id": "106540352242922",
                "access_token": "test-token", "app_secret": secret},
    )  # fmt: skip


@pytest.fixture
def meta():
    """Meta's stand-in: an account made outside a test transaction syncs its templates at once."""
    server = FakeWhatsApp().start()
    yield server
    server.stop()


def _statuses(*keys: str, status: str = "delivered") -> str:
    statuses = [
        {"id": f"wamid.{key}", "recipient_id": "905321234567", "status": status, "timestamp": "1733100000",
         "biz_opaque_callback_data": key}
        for key in keys
    ]  # fmt: skip
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "106540352242922"},
                                "statuses": statuses,
                            },
                        }
                    ],
                }
            ],
        }
    )


def _store(account, payload: str) -> WebhookPost:
    return inbox.webhook_store(account_id=account.pk, body=payload.encode(), headers={}, kick=lambda: None)


@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_posts_are_drained_together_each_accounts_events_once_in_order():
    first, second = _account("WA 1"), _account("WA 2")
    _store(first, _statuses("m1", "m2"))
    _store(second, _statuses("x1"))
    _store(first, _statuses("m3"))
    assert WebhookPost.objects.count() == 3 and calls == []

    handled, more = inbox.webhooks_drain()

    assert (handled, more) == (3, False)
    assert sorted(calls) == sorted([(first.pk, ["m1", "m2", "m3"], []), (second.pk, ["x1"], [])])
    assert not WebhookPost.objects.exists()


@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_a_failing_post_waits_for_its_retry_and_never_holds_back_the_others():
    account = _account()
    _store(account, _statuses("m1"))
    bad = _store(account, _statuses("poison"))
    _store(account, _statuses("m2"))

    inbox.webhooks_drain()

    assert sorted(keys for _a, keys, _i in calls) == [["m1"], ["m2"]]  # the batch failed, then one by one
    kept = WebhookPost.objects.get()
    assert kept.pk == bad.pk and kept.attempts == 1 and kept.claim is None
    assert "the handler failed on this post" in kept.last_error
    assert kept.next_attempt_at > timezone.now()
    calls.clear()
    inbox.webhooks_drain()  # not due yet
    assert calls == [] and WebhookPost.objects.count() == 1
    WebhookPost.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1), attempts=inbox.MAX_ATTEMPTS - 1)
    inbox.webhooks_drain()
    kept.refresh_from_db()
    assert kept.attempts == inbox.MAX_ATTEMPTS  # given up: kept, with its error, and never taken again
    WebhookPost.objects.update(next_attempt_at=None)
    inbox.webhooks_drain()
    assert calls == [] and WebhookPost.objects.get().attempts == inbox.MAX_ATTEMPTS


@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_a_stopped_workers_claim_is_freed_by_beat_and_applied_once():
    account = _account()
    post = _store(account, _statuses("m1"))
    # a worker claimed it and stopped before applying (its transaction rolled back with it)
    WebhookPost.objects.filter(pk=post.pk).update(claim="6d1c1f2e-4f7a-4a59-9a43-8a3a4f1b2c3d",
                                                  claimed_at=timezone.now())  # fmt: skip
    assert inbox.webhooks_drain() == (0, False) and calls == []
    assert webhooks_tick() == 0  # claimed a moment ago: still the worker's
    WebhookPost.objects.update(claimed_at=timezone.now() - inbox.CLAIM_TIMEOUT - timedelta(seconds=1))
    assert webhooks_tick() == 1  # freed, and the drain it queues (eager here) applies it
    assert calls == [(account.pk, ["m1"], [])]
    assert not WebhookPost.objects.exists()


def test_kicks_are_coalesced_and_a_finished_drain_lets_the_next_post_kick():
    account = _account()
    kicks = []
    inbox.webhook_store(account_id=account.pk, body=b"{}", headers={}, kick=lambda: kicks.append(1))
    inbox.webhook_store(account_id=account.pk, body=b"{}", headers={}, kick=lambda: kicks.append(1))
    assert len(kicks) == 1  # one drain pending: the second post rides on it
    inbox.webhooks_drain()
    inbox.webhook_store(account_id=account.pk, body=b"{}", headers={}, kick=lambda: kicks.append(1))
    assert len(kicks) == 2


def test_a_broker_that_is_down_loses_no_post():
    account = _account()

    def broker_down():
        raise ConnectionError("the broker is not reachable")

    post = inbox.webhook_store(account_id=account.pk, body=_statuses("m1").encode(), headers={}, kick=broker_down)
    assert WebhookPost.objects.filter(pk=post.pk).exists()  # beat's drain applies it


@pytest.mark.django_db(transaction=True)  # outside a transaction the view uses the process's copy of the accounts
@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_the_view_accepts_a_rotated_app_secret_at_once(client, meta):
    account = _account(secret="old-secret", base_url=meta.url)
    url = f"/hooks/whatsapp/{account.webhook_secret}/"

    def post(secret: str, key: str):
        body = _statuses(key).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return client.post(url, body, content_type="application/json", headers={"X-Hub-Signature-256": signature})

    assert post("old-secret", "m1").status_code == 200  # the connector is now cached in this process
    _account(secret="new-secret", base_url=meta.url)
    assert post("new-secret", "m3").status_code == 200  # at once: a signature that fails looks again
    ACTIVE_ACCOUNTS._checked -= RECENT_SECONDS  # the copy is confirmed by the shared cache at most that late
    assert post("old-secret", "m2").status_code == 403
    assert [keys for _a, keys, _i in calls] == [["m1"], ["m3"]]


@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_a_post_queued_by_the_previous_version_is_still_applied():
    account = _account()
    assert process_webhook(account.pk, _statuses("m1"), {}) == 1
    assert calls == [(account.pk, ["m1"], [])]


def test_statuses_drained_together_keep_every_step_of_the_history():
    """sent, delivered and read of one message in three posts applied in one batch: the message ends
    delivered and read, and its history has all three steps, as if applied one post at a time."""
    account = _account()
    message = Message.objects.create(
        kind="newsletter", channel="whatsapp", account=account, to="+905321234567", status=MessageStatus.QUEUED
    )
    other = Message.objects.create(
        kind="newsletter", channel="whatsapp", account=account, to="+905321234568", status=MessageStatus.SENT
    )
    for status in ("read", "sent", "delivered"):  # out of order, as Meta may post them
        _store(account, _statuses(message.key, other.key, status=status))

    assert inbox.webhooks_drain() == (3, False)

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.read_at is not None
    steps = list(MessageStatusEvent.objects.filter(message=message).order_by("pk").values_list("status", flat=True))
    assert steps == ["sent", "delivered", "read"]
    steps = list(MessageStatusEvent.objects.filter(message=other).order_by("pk").values_list("status", flat=True))
    assert steps == ["delivered", "read"]  # it was sent already: no second "sent"


@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_an_admin_sees_a_failed_post_with_its_error_and_applies_it_again(admin_client):
    account = _account()
    post = _store(account, _statuses("m1"))
    WebhookPost.objects.filter(pk=post.pk).update(
        attempts=inbox.MAX_ATTEMPTS, last_error="RuntimeError: the database was away"
    )
    admin_client.cookies.load({"django_language": "en"})
    page = admin_client.get("/admin/providers/webhookpost/")
    assert page.status_code == 200
    assert b"given up" in page.content and b"RuntimeError: the database was away" in page.content
    done = admin_client.post(
        "/admin/providers/webhookpost/", {"action": "apply_again", "_selected_action": [post.pk]}, follow=True
    )
    assert b"being applied again" in done.content
    assert calls == [(account.pk, ["m1"], [])]  # the drain it queued (eager here) applied it
    assert not WebhookPost.objects.exists()


@pytest.mark.django_db(transaction=True)
@override_settings(WEBHOOK_EVENT_HANDLERS=[HANDLER])
def test_an_account_made_after_the_copy_is_found_at_once_and_a_deleted_one_is_unknown(client, meta):
    first = _account("WA 1", base_url=meta.url)

    def post(account, key: str):
        body = _statuses(key).encode()
        signature = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
        return client.post(
            f"/hooks/whatsapp/{account.webhook_secret}/",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature},
        )

    assert post(first, "m1").status_code == 200  # the copy of the accounts is loaded now
    second = _account("WA 2", base_url=meta.url)
    assert post(second, "x1").status_code == 200
    ProviderAccount.objects.filter(pk=second.pk).delete()  # (signals refresh the copy; a stale one gives 404 too)
    assert post(second, "x2").status_code == 404
    assert sorted(calls) == sorted([(first.pk, ["m1"], []), (second.pk, ["x1"], [])])
