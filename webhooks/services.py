"""Outgoing webhooks: register and remove endpoints, and queue an event for every endpoint that
wants it (a Delivery row in the caller's transaction; webhooks.delivery sends it after the
commit). Product.md: The public API, outgoing webhooks."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from webhooks.models import Delivery, Endpoint, EventType

MAX_ENDPOINTS = 20
EMIT_CHUNK = 2000


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 24 random bytes in base64 (what its libraries take)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def url_problem(url: str) -> str:
    """Why the panel will not POST to `url`, in words, or "" (checked when an endpoint is made and
    again before each delivery, as a name may later point elsewhere)."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "not a valid http(s) URL"
    parts = urlsplit(url)
    if parts.username or parts.password:
        return "a URL with a user name or password in it is not allowed; put a token in the path instead"
    if parts.scheme != "https" and not settings.WEBHOOKS_ALLOW_HTTP:
        return "use https:// (plain http is allowed only where WEBHOOKS_ALLOW_HTTP is set)"
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, None)}
    except (socket.gaierror, UnicodeError):
        return f"the host name '{parts.hostname}' does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            return (
                f"'{parts.hostname}' is a private, loopback or reserved address ({ip}); "
                "set WEBHOOKS_ALLOW_PRIVATE_ADDRESSES to deliver inside your network"
            )
    return ""


def endpoint_create(
    *, url: str, events: list[str], description: str = "", active: bool = True, api_key=None, user=None
) -> Endpoint:
    problems: dict[str, str] = {}
    if problem := url_problem(url):
        problems["url"] = problem
    unknown = sorted(set(events) - set(EventType.values))
    if not events:
        problems["events"] = f"name at least one event: {', '.join(EventType.values)}"
    elif unknown:
        problems["events"] = f"unknown event(s) {', '.join(unknown)}; use {', '.join(EventType.values)}"
    if Endpoint.objects.count() >= MAX_ENDPOINTS:
        problems["url"] = f"there are already {MAX_ENDPOINTS} endpoints; remove one first"
    if problems:
        raise ValidationError(problems)
    return Endpoint.objects.create(
        url=url,
        events=sorted(set(events), key=EventType.values.index),
        description=description,
        active=active,
        secret=new_secret(),
        api_key=api_key,
        created_by=user,
    )


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """The endpoint and its deliveries (with their attempts) are gone; nothing more is sent to it."""
    endpoint.delete()


def events_emit(event_type: str, items: Iterable[dict]) -> int:
    """One Delivery per item and active endpoint that wants `event_type`, in the caller's
    transaction; the deliverer is asked after the commit. Returns how many rows were made.
    `items` is iterated only when an endpoint wants the event (a generator costs nothing else)."""
    endpoints = [e.pk for e in Endpoint.objects.filter(active=True).only("pk", "events") if event_type in e.events]
    if not endpoints:
        return 0
    now = timezone.now()
    made, rows = 0, []
    for item in items:  # streamed: a cancelled campaign of a million messages is never all in memory
        event_id = f"msg_{uuid.uuid4().hex}"  # one event: the same webhook-id at every endpoint
        rows += [
            Delivery(endpoint_id=pk, event_id=event_id, event_type=event_type, payload=item, next_attempt_at=now)
            for pk in endpoints
        ]
        if len(rows) >= EMIT_CHUNK:
            made += len(Delivery.objects.bulk_create(rows))
            rows = []
    if rows:
        made += len(Delivery.objects.bulk_create(rows))
    if made:
        transaction.on_commit(lambda: _ask_deliverer(endpoints))
    return made


def _ask_deliverer(endpoint_ids: list[int]) -> None:
    from webhooks.tasks import deliver_endpoint

    for pk in endpoint_ids:
        deliver_endpoint.delay(pk)
