"""Delivering queued events to an endpoint: claimed in batches (a conditional UPDATE, so two
workers never send one delivery at once), signed per Standard Webhooks (webhook-id,
webhook-timestamp, webhook-signature over the exact bytes sent), POSTed, every attempt kept;
a 2xx is delivered, anything else is tried again on settings.WEBHOOKS_RETRY_SECONDS, then failed."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone
from standardwebhooks import Webhook

from providers.sessions import settled_session
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint
from webhooks.services import url_problem

logger = logging.getLogger(__name__)
BATCH = 50
LEASE = timedelta(minutes=2)  # a claimed delivery of a worker that died is due again after this
USER_AGENT = "messaging-panel-webhooks/1"


def deliveries_claim(*, endpoint_id: int, limit: int = BATCH) -> list[Delivery]:
    """Up to `limit` due deliveries of the endpoint, oldest first, claimed for this worker."""
    now = timezone.now()
    claim = uuid.uuid4()
    due = (
        Delivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return []
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        claim=claim, next_attempt_at=now + LEASE
    )
    return list(Delivery.objects.filter(claim=claim).order_by("id"))


def body_of(delivery: Delivery) -> bytes:
    """The event as Standard Webhooks shapes it: type, timestamp (when it happened), data."""
    envelope = {"type": delivery.event_type, "timestamp": delivery.created_at.isoformat(), "data": delivery.payload}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def signed_headers(*, secret: str, event_id: str, body: bytes, at: datetime) -> dict[str, str]:
    at = at.astimezone(UTC)  # the library reads the time as UTC whatever its zone says
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body.decode()),
    }


def delivery_attempt(delivery: Delivery, endpoint: Endpoint, session: requests.Session, *, refused: str = "") -> bool:
    """One POST (none when the URL is `refused`, with why); the outcome is written to the delivery
    and an Attempt row. True if delivered."""
    started = time.monotonic()
    now = timezone.now()
    code, error, response_text = None, "", ""
    if refused:
        error = f"not sent: {refused}"
    else:
        body = body_of(delivery)
        try:
            response = session.post(
                endpoint.url,
                data=body,
                headers=signed_headers(secret=endpoint.secret, event_id=delivery.event_id, body=body, at=now),
                timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
                allow_redirects=False,  # a redirect is the receiver's error, never followed blindly
            )
            code, response_text = response.status_code, response.text[:500]
            if not 200 <= code < 300:
                error = f"the endpoint answered HTTP {code}"
        except requests.Timeout:
            error = f"no answer within {settings.WEBHOOKS_TIMEOUT_SECONDS} s"
        except requests.RequestException as exc:
            error = f"could not connect: {type(exc).__name__}"
    duration = int((time.monotonic() - started) * 1000)
    Attempt.objects.create(
        delivery=delivery, at=now, status_code=code, error=error[:255], response=response_text, duration_ms=duration
    )
    attempts = delivery.attempts + 1
    change = {"attempts": attempts, "claim": None, "last_status_code": code, "last_error": error[:255]}
    if not error:
        change |= {"status": DeliveryStatus.DELIVERED, "delivered_at": timezone.now(), "next_attempt_at": None}
    elif attempts > len(settings.WEBHOOKS_RETRY_SECONDS):
        change |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
        logger.warning("webhook delivery %s to %s failed after %d attempts: %s", delivery.pk, endpoint.url,
                       attempts, error)  # fmt: skip
    else:
        change["next_attempt_at"] = timezone.now() + timedelta(seconds=settings.WEBHOOKS_RETRY_SECONDS[attempts - 1])
    Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(**change)
    return not error


def endpoint_deliver(*, endpoint_id: int, budget_seconds: float = 20) -> tuple[int, bool]:
    """Deliver the endpoint's due events for up to `budget_seconds`, in order; an endpoint that
    fails stops the run (its later events wait for their turn rather than hammer it). Returns
    how many were delivered and whether the budget ran out with more due (then the caller queues
    another run)."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None:
        return 0, False
    delivered = 0
    deadline = time.monotonic() + budget_seconds
    with settled_session(endpoint.url) as session:
        while True:
            if time.monotonic() >= deadline:
                return delivered, True
            batch = deliveries_claim(endpoint_id=endpoint_id)
            if not batch:
                return delivered, False
            refused = url_problem(endpoint.url)  # again for each batch: a name may point elsewhere now
            for index, delivery in enumerate(batch):
                if delivery_attempt(delivery, endpoint, session, refused=refused):
                    delivered += 1
                    continue
                _release([d.pk for d in batch[index + 1 :]], delivery.claim)
                return delivered, False


def _release(ids: list[int], claim) -> None:
    """Claimed but not tried: due again at once, for the next run."""
    if ids:
        Delivery.objects.filter(pk__in=ids, claim=claim).update(claim=None, next_attempt_at=timezone.now())


def endpoints_due() -> list[int]:
    now = timezone.now()
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__active=True)
        .values_list("endpoint_id", flat=True)
        .distinct()
    )


def delivery_retry_now(*, delivery_ids: list[int]) -> int:
    """The panel's "retry now": failed or waiting deliveries are due at once (attempts go on counting)."""
    return (
        Delivery.objects.filter(pk__in=delivery_ids)
        .exclude(status=DeliveryStatus.DELIVERED)
        .update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), claim=None)
    )
