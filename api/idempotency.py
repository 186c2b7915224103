"""Idempotency-Key on POST (product.md: The public API, idempotency).

A POST may carry `Idempotency-Key` (1 to 255 printable ASCII characters; the quoted form of
draft-ietf-httpapi-idempotency-key-header, `"abc"`, is the same key as `abc`). The key is scoped
to the API key and kept API_IDEMPOTENCY_SECONDS:
- the first request claims it by inserting its IdempotentRequest row, committed before the view
  runs, so the unique (api_key, key) constraint makes a concurrent second request see the claim;
- the same key with the same request (fingerprint: sha256 over the method, the path with its
  query and the raw body bytes, exactly as sent) gets the first answer again, with
  `Idempotency-Replay: true`, and nothing runs again;
- another request under the key → 422; the first still running → 409;
- a 2xx/3xx/4xx answer is kept; a 5xx, or an exception, lets the claim go so the client may retry;
- a row older than API_IDEMPOTENCY_SECONDS is absent (and the periodic task deletes it).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions

from api.errors import Conflict, Unprocessable
from api.models import ApiKey, IdempotencyState, IdempotentRequest

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotency-Replay"
MAX_LENGTH = 255
# the answer's headers a replay repeats; the rate limit's are the replay's own
KEPT_HEADERS = ("Location", "Content-Location", "ETag", "Last-Modified")
# a claim that fails because the first one just let go (a 5xx) is tried again this often
CLAIM_ATTEMPTS = 3


class Replayed(Exception):  # not an error: the way out of ApiView.initial
    """The stored first answer, to send instead of running the view."""

    def __init__(self, response: HttpResponse):
        super().__init__("replayed")
        self.response = response


def idempotency_key_of(request) -> str | None:
    """The request's Idempotency-Key, None without one; a malformed one is a 400."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_LENGTH or not all(" " <= char <= "~" for char in key):
        raise exceptions.ValidationError(
            {HEADER: [f"The Idempotency-Key header must be 1 to {MAX_LENGTH} printable ASCII characters."]}
        )
    return key


def fingerprint_of(*, method: str, path: str, body: bytes) -> str:
    """sha256 over the method, the path (with its query) and the raw body; each part is prefixed
    with its length so no two different requests run together into the same bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _cutoff():
    return timezone.now() - timedelta(seconds=settings.API_IDEMPOTENCY_SECONDS)


def idempotent_request_claim(
    *, api_key: ApiKey, key: str, method: str, path: str, fingerprint: str
) -> tuple[IdempotentRequest, bool]:
    """(row, True) when this request claimed the key and is to run; (row, False) when the key's
    first answer is to be replayed. Raises Unprocessable (another request under the key) or
    Conflict (the first one still running)."""
    for _attempt in range(CLAIM_ATTEMPTS):
        # an expired row is absent: the key may be claimed afresh
        IdempotentRequest.objects.filter(api_key=api_key, key=key, created_at__lt=_cutoff()).delete()
        try:
            with transaction.atomic():  # its own transaction: committed before the view runs
                row = IdempotentRequest.objects.create(
                    api_key=api_key, key=key, method=method, path=path[:255], fingerprint=fingerprint
                )
            return row, True
        except IntegrityError:
            row = IdempotentRequest.objects.filter(api_key=api_key, key=key, created_at__gte=_cutoff()).first()
        if row is None:
            continue  # the first one let go of its claim (a 5xx) between our insert and look
        if row.fingerprint != fingerprint:
            raise Unprocessable(
                "This Idempotency-Key was already used for another request (another body, method or path); "
                "send a new key with a new request."
            )
        if row.state == IdempotencyState.RUNNING:
            break
        return row, False
    raise Conflict("A request with this Idempotency-Key is still running; retry once it has finished.")


def idempotent_request_finish(*, row: IdempotentRequest, response) -> None:
    """Keeps the first answer. The body is kept as its rendered text (a JSON string in the JSON
    column), so a replay sends the same bytes: PostgreSQL's jsonb would reorder an object's keys."""
    response.render()
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    headers["Content-Type"] = response["Content-Type"]
    IdempotentRequest.objects.filter(pk=row.pk, state=IdempotencyState.RUNNING).update(
        state=IdempotencyState.DONE,
        response_status=response.status_code,
        response_body=response.content.decode() if response.content else None,
        response_headers=headers,
        finished_at=timezone.now(),
    )


def idempotent_request_release(*, row: IdempotentRequest) -> None:
    """The request failed on our side: the key is free for the client's retry."""
    IdempotentRequest.objects.filter(pk=row.pk, state=IdempotencyState.RUNNING).delete()


def idempotent_requests_expire() -> int:
    """Deletes the rows past API_IDEMPOTENCY_SECONDS (the beat task); returns how many."""
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=_cutoff()).delete()
    return deleted


def replay_of(row: IdempotentRequest) -> HttpResponse:
    headers = dict(row.response_headers)
    content_type = headers.pop("Content-Type", None)
    headers[REPLAY_HEADER] = "true"
    return HttpResponse(
        (row.response_body or "").encode(), status=row.response_status, content_type=content_type, headers=headers
    )


class Idempotency:
    """One POST's use of its Idempotency-Key, as ApiView drives it: `begin` after authentication
    and the rate limit, `finish` with the answer, `release` if the answer never came."""

    def __init__(self, row: IdempotentRequest):
        self.row = row
        self.done = False

    @classmethod
    def begin(cls, request) -> Idempotency | None:
        """None when there is nothing to do; raises Replayed with the first answer."""
        if request.method != "POST":
            return None
        key = idempotency_key_of(request)
        if key is None:
            return None
        fingerprint = fingerprint_of(method=request.method, path=request.get_full_path(), body=request.body)
        row, claimed = idempotent_request_claim(
            api_key=request.auth, key=key, method=request.method, path=request.path, fingerprint=fingerprint
        )
        if not claimed:
            raise Replayed(replay_of(row))
        return cls(row)

    def finish(self, response) -> None:
        if response.status_code >= 500:
            idempotent_request_release(row=self.row)
        else:
            idempotent_request_finish(row=self.row, response=response)
        self.done = True

    def release(self) -> None:
        if not self.done:
            self.done = True
            idempotent_request_release(row=self.row)
