"""Provider webhooks: /hooks/<connector>/<account secret>/ (issue 5, providers.md §1.6, §4.5).
The secret is compared in constant time, the provider's signature checked where it has one, and
the request answered 2xx at once; parsing and applying happen on the `webhooks` queue."""

from __future__ import annotations

import hmac
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from providers.base import MessagingConnector
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024
KEPT_HEADERS = ("content-type", "x-hub-signature-256", "x-signature", "user-agent")


@csrf_exempt
@sensitive_variables("secret")  # an error report never shows the URL secret
def webhook(request: HttpRequest, connector: str, secret: str) -> HttpResponse:
    if request.method not in ("POST", "GET"):
        return HttpResponse(status=405)
    account = None
    for candidate in ProviderAccount.objects.filter(connector=connector, is_active=True):
        if hmac.compare_digest(candidate.webhook_secret.encode(), secret.encode()):
            account = candidate
    if account is None:
        return HttpResponseNotFound("unknown webhook")
    if request.method == "GET":
        instance = account.connector_instance()
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
            logger.warning("webhook handshake for account %s refused: wrong verify token", account.pk)
            return HttpResponseForbidden("wrong verify token")
        return HttpResponse(challenge, content_type="text/plain")
    body = request.body
    if len(body) > MAX_BODY:
        return HttpResponse("payload too large", status=413)
    instance = account.connector_instance()
    headers = {name: request.headers.get(name, "") for name in KEPT_HEADERS if name in request.headers}
    if not isinstance(instance, MessagingConnector) or not instance.verify_webhook(body=body, headers=headers):
        logger.warning("webhook for account %s refused: bad signature", account.pk)
        return HttpResponseForbidden("bad signature")
    from providers.tasks import process_webhook

    payload = body.decode("latin-1")  # bytes survive the JSON task serializer unchanged
    try:
        process_webhook.delay(account.pk, payload, headers)
    except Exception:
        # Eager (tests) the task ran here: its failure is logged and the provider still gets its 200,
        # as it would from a queue. Queued: the broker refused it, so the provider is asked to retry.
        logger.exception("webhook for account %s could not be processed", account.pk)
        if not process_webhook.app.conf.task_always_eager:
            return HttpResponse("try again later", content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")
