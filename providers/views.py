"""Provider webhooks: /hooks/<connector>/<account secret>/ (issue 5, providers.md §1.6, §4.5).
The secret is compared in constant time, the provider's signature checked where it has one, and
the post stored (providers.inbox) and answered 2xx at once; parsing and applying happen on the
`webhooks` queue, many posts at a time."""

from __future__ import annotations

import hmac
import logging

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from providers.base import MessagingConnector
from providers.inbox import account_connector, webhook_store
from providers.models import ProviderAccount
from providers.snapshots import ACTIVE_ACCOUNTS

logger = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024
KEPT_HEADERS = ("content-type", "x-hub-signature-256", "x-signature", "user-agent")
# the process's copy of the accounts is used this long without asking the shared cache whether it is
# current: only a deactivation is seen that late (a new account, secret or app secret is looked up at once)
RECENT_SECONDS = 5.0


def _account_of(connector: str, secret: str, accounts) -> ProviderAccount | None:
    found = None
    for candidate in accounts:
        if candidate.connector == connector and hmac.compare_digest(candidate.webhook_secret.encode(), secret.encode()):
            found = candidate
    return found


@csrf_exempt
@sensitive_variables("secret")  # an error report never shows the URL secret
def webhook(request: HttpRequest, connector: str, secret: str) -> HttpResponse:
    if request.method not in ("POST", "GET"):
        return HttpResponse(status=405)
    account = _account_of(connector, secret, ACTIVE_ACCOUNTS.recent(RECENT_SECONDS))
    if account is None:  # a new account or secret is in no copy yet: the accounts as they are now
        account = _account_of(connector, secret, ACTIVE_ACCOUNTS.fresh())
    instance = account_connector(account.pk, row=account.__dict__) if account is not None else None
    if instance is None:
        return HttpResponseNotFound("unknown webhook")
    account_id = account.pk
    if request.method == "GET":
        handshake = getattr(instance, "verify_handshake", None)
        if handshake is None:  # a reachability check from the provider's dashboard
            return HttpResponse("ok", content_type="text/plain")
        # a subscription handshake (Meta: hub.mode, hub.verify_token, hub.challenge): the challenge is
        # echoed only for the right verify token
        challenge = handshake(
            mode=request.GET.get("hub.mode"),
            token=request.GET.get("hub.verify_token"),
            challenge=request.GET.get("hub.challenge"),
        )
        if challenge is None:
            logger.warning("webhook handshake for account %s refused: wrong verify token", account_id)
            return HttpResponseForbidden("wrong verify token")
        return HttpResponse(challenge, content_type="text/plain")
    body = request.body
    if len(body) > MAX_BODY:
        return HttpResponse("payload too large", status=413)
    headers = {name: request.headers.get(name, "") for name in KEPT_HEADERS if name in request.headers}
    signed = isinstance(instance, MessagingConnector) and instance.verify_webhook(body=body, headers=headers)
    if not signed and isinstance(instance, MessagingConnector):  # a rotated app secret: the account as it is now
        account = _account_of(connector, secret, ACTIVE_ACCOUNTS.fresh())
        instance = account_connector(account.pk, row=account.__dict__) if account is not None else None
        signed = isinstance(instance, MessagingConnector) and instance.verify_webhook(body=body, headers=headers)
    if not signed:
        logger.warning("webhook for account %s refused: bad signature", account_id)
        return HttpResponseForbidden("bad signature")
    from providers.tasks import process_webhooks

    # stored before the answer (a database failure is a 500: the provider sends it again), applied by
    # a drain on the `webhooks` queue (in tests, eagerly, here)
    try:
        webhook_store(account_id=account_id, body=body, headers=headers, kick=process_webhooks.delay)
    except IntegrityError:  # the account was deleted a moment ago (the copy above is up to seconds old)
        return HttpResponseNotFound("unknown webhook")
    return HttpResponse("ok", content_type="text/plain")
