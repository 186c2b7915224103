"""Received webhooks (providers.md §1.6): the view stores each checked POST as a WebhookPost and
answers 200 at once; `webhooks` workers drain the inbox many posts at a time, so the fixed cost of
applying (the account, the locked read of the messages, the commit) is paid once for hundreds of
statuses instead of once a POST.

Exactly once: posts are claimed with one conditional UPDATE (config.db.claim_rows), applied and
deleted in one transaction; a worker that dies leaves its claim, which is freed after
CLAIM_TIMEOUT and applied again (statuses only move forward, so a retried report changes nothing
twice). A batch that fails is applied post by post; a post that fails on its own waits with
back-off and is kept with its error after MAX_ATTEMPTS.

Kicks: the view publishes a drain task only when none is pending (`cache.add` of KICK_KEY); a
drain clears the key when it finds the inbox empty and then looks once more, so a post stored
while it finished is never left waiting. Beat drains every minute as well (a lost kick, a freed
claim, a post waiting for its retry)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from config.cache import add_flag
from config.db import claim_rows
from providers.base import Connector, WebhookEvents, WebhookRejected
from providers.models import ProviderAccount, WebhookPost

logger = logging.getLogger(__name__)
KICK_KEY = "providers:webhook-drain"
KICK_SECONDS = 60  # a kick whose task was lost blocks new kicks this long at most (beat drains too)
POSTS_PER_BATCH = 200
CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_PROBLEMS_LOGGED = 10  # a webhook of 10,000 bad items is one log line, not 10,000


def webhook_store(*, account_id: int, body: bytes, headers: dict, kick: Callable[[], None]) -> WebhookPost:
    """The view's write: the post (`body`: the raw request body), then a drain task
    unless one is pending. A kick that cannot be published (the broker is down) is logged: the post
    is stored, and beat's drain applies it within a minute."""
    post = WebhookPost(account_id=account_id, body=body, headers=headers, received_at=timezone.now())
    table = connection.ops.quote_name(WebhookPost._meta.db_table)
    with connection.cursor() as cursor:  # one plain INSERT: the ORM's save costs more than the query here
        cursor.execute(
            f"INSERT INTO {table} (account_id, body, headers, received_at, attempts, last_error) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, 0, '') RETURNING id",
            [account_id, body, json.dumps(headers), post.received_at],
        )
        post.pk = cursor.fetchone()[0]
    try:
        if add_flag(KICK_KEY, timeout=KICK_SECONDS):
            kick()
    except Exception:
        logger.exception("webhook post %s of account %s stored; its drain could not be queued", post.pk, account_id)
    return post


def webhooks_drain(*, budget_seconds: float | None = None, batch: int = POSTS_PER_BATCH) -> tuple[int, bool]:
    """Apply stored posts batch by batch until the inbox is empty or the time budget is spent.
    Returns (posts handled, whether posts may be left: the caller queues another drain)."""
    deadline = None if budget_seconds is None else timezone.now() + timedelta(seconds=budget_seconds)
    total = 0
    while True:
        handled = _drain_batch(batch)
        if not handled:
            cache.delete(KICK_KEY)  # a post stored from now on kicks a new drain ...
            handled = _drain_batch(batch)  # ... and one stored before it is here
            if not handled:
                return total, False
        total += handled
        if deadline is not None and timezone.now() >= deadline:
            return total, True


def webhooks_free_stale_claims() -> int:
    """Posts claimed by a worker that stopped: claimable again."""
    return WebhookPost.objects.filter(claim__isnull=False, claimed_at__lt=timezone.now() - CLAIM_TIMEOUT).update(
        claim=None, claimed_at=None
    )


def _drain_batch(limit: int) -> int:
    now = timezone.now()
    claim = uuid.uuid4()
    due = WebhookPost.objects.filter(claim__isnull=True, attempts__lt=MAX_ATTEMPTS).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    if not claim_rows(due, order_by="pk", limit=limit, claim=claim, now=now):
        return 0
    posts = list(WebhookPost.objects.filter(claim=claim).order_by("pk").values("pk", "account_id", "body", "headers"))
    try:
        with transaction.atomic():
            _apply(posts)
            WebhookPost.objects.filter(claim=claim).delete()
    except Exception:
        if len(posts) == 1:
            _failed(posts[0])
        else:  # one post's failure never holds back the others: each on its own
            logger.warning("a batch of %d webhook posts failed; applying them one by one", len(posts), exc_info=True)
            for post in posts:
                try:
                    with transaction.atomic():
                        _apply([post])
                        WebhookPost.objects.filter(pk=post["pk"]).delete()
                except Exception:
                    _failed(post)
    return len(posts)


def _failed(post: dict) -> None:
    logger.exception("webhook post %s of account %s could not be applied", post["pk"], post["account_id"])
    row = WebhookPost.objects.filter(pk=post["pk"]).values("attempts").first()
    if row is None:
        return
    attempts = row["attempts"] + 1
    if attempts >= MAX_ATTEMPTS:
        logger.error("webhook post %s of account %s: giving up after %d attempts", post["pk"], post["account_id"],
                     attempts)  # fmt: skip
    WebhookPost.objects.filter(pk=post["pk"]).update(
        claim=None,
        claimed_at=None,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=10 * 4**attempts),
        last_error=_error_words(),
    )


def _error_words() -> str:
    import sys
    import traceback

    return "".join(traceback.format_exception_only(*sys.exc_info()[:2])).strip()[:2000]


def _apply(posts: list[dict]) -> None:
    """Parse every post with its account's connector and hand each account's events, in the order
    they came, to settings.WEBHOOK_EVENT_HANDLERS once (providers imports no other app)."""
    by_account: dict[int, WebhookEvents] = {}
    connectors: dict[int, Connector | None] = {}  # one look-up per account a batch
    for post in posts:
        account_id = post["account_id"]
        if account_id not in connectors:
            connectors[account_id] = account_connector(account_id)
        events = events_of(
            account_id=account_id, body=bytes(post["body"]), headers=post["headers"], connector=connectors[account_id]
        )
        if events is None:
            continue
        merged = by_account.setdefault(post["account_id"], WebhookEvents())
        merged.reports += events.reports
        merged.inbound += events.inbound
        merged.template_updates += events.template_updates
    handlers = [import_string(path) for path in settings.WEBHOOK_EVENT_HANDLERS]
    for account_id, events in by_account.items():
        for handler in handlers:
            handler(account_id=account_id, events=events)


def events_of(
    *, account_id: int, body: bytes, headers: dict, connector: Connector | None = None
) -> WebhookEvents | None:
    """One post's events, or None when the account is gone or its connector cannot read the post
    (logged and skipped: retrying could never make it understood, product.md "What bad input
    gets"). Items of an unexpected shape are logged with the account id; the rest is kept."""
    connector = connector or account_connector(account_id)
    if connector is None:
        return None
    try:
        events = connector.parse_webhook(body=body, headers=headers)
    except WebhookRejected as exc:
        logger.warning("webhook for account %s not understood: %s", account_id, exc)
        return None
    except Exception:  # a connector's bug on a payload: logged with its trace, never retried for ever
        logger.exception("webhook for account %s (%s): the connector could not read it", account_id, connector.name)
        return None
    if events.problems:
        shown = "; ".join(events.problems[:MAX_PROBLEMS_LOGGED])
        more = len(events.problems) - MAX_PROBLEMS_LOGGED
        logger.warning(
            "webhook for account %s: %d item(s) skipped: %s%s",
            account_id,
            len(events.problems),
            shown,
            f"; and {more} more" if more > 0 else "",
        )
    return events


_connectors: dict[int, tuple[tuple, Connector]] = {}


def account_connector(account_id: int, *, row: dict | None = None) -> Connector | None:
    """The account's connector instance, built (credentials decrypted) once per process for as long
    as the account's row is unchanged: a save moves `updated_at`, new credentials change the
    ciphertext, and either builds it again."""
    if row is None:
        row = (
            ProviderAccount.objects.filter(pk=account_id)
            .values("pk", "connector", "updated_at", "credentials_encrypted")
            .first()
        )
        if row is None:
            return None
    cached = _connectors.get(account_id)
    if cached is not None and cached[0] == _version(row):
        return cached[1]
    account = ProviderAccount.objects.filter(pk=account_id).first()
    if account is None:
        return None
    connector = account.connector_instance()
    _connectors[account_id] = (_version(account.__dict__), connector)
    return connector


def _version(row: dict) -> tuple:
    return (row["connector"], row["updated_at"], row["credentials_encrypted"])
