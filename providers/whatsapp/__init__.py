"""Meta WhatsApp Business Cloud API (providers.md §6): sends through POST /{v}/{phone-number-id}/messages
(one message a request, our message key as `biz_opaque_callback_data`, no idempotency key at Meta),
templates on the WhatsApp Business account (W2–W5), webhooks signed with the app secret (§6.5).
The wire details live in this package: client.py (HTTP, Graph errors), errors.py (Meta's codes in
our terms), templates.py (records, limits, send components), uploads.py (template samples, Resumable
Upload API), webhooks.py (signature, handshake, parsing)."""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from functools import cached_property

from django.utils.translation import gettext_lazy as _

from providers.base import (
    Channel,
    CheckResult,
    DeliveryStatus,
    MessagingConnector,
    OutboundMessage,
    SendResult,
    WebhookEvents,
)
from providers.whatsapp import client, uploads, webhooks
from providers.whatsapp.client import GraphClient, GraphError, GraphUnreachable
from providers.whatsapp.errors import Kind, WhatsAppSendError, describe, meta_error
from providers.whatsapp.form import (  # noqa: F401  (WhatsAppForm and new_verify_token: re-exported)
    DEFAULT_BASE_URL,
    DEFAULT_RATE,
    DEFAULT_VERSION,
    WhatsAppForm,
    new_verify_token,
)
from providers.whatsapp.multi import GraphSender, Post
from providers.whatsapp.templates import CreatedTemplate, Template, template_from_graph, template_problems

logger = logging.getLogger(__name__)
SEND_CONCURRENCY = 32  # requests in flight per dispatcher (one thread: multi.py)
PAGE_LIMIT = 100
MAX_PAGES = 200  # a paging loop that never ends is Meta's bug, not a reason to hang a worker
ACCEPTED = {"accepted", "held_for_quality_assessment", "paused", ""}


class WhatsAppConnector(MessagingConnector):
    name = "whatsapp"
    label = _("WhatsApp (Meta Cloud API)")
    channel = Channel.WHATSAPP
    config_form = WhatsAppForm
    secret_fields = ("access_token", "app_secret")
    # Meta takes one message a request: a dispatcher claims up to max_batch and sends them
    # SEND_CONCURRENCY at a time over keep-alive connections kept between batches (send_each).
    # 500: the per-batch work (claim, the sending rule, the result update) is spread over more
    # messages (bench/README.md); a worker killed mid-batch leaves at most this many "outcome
    # unknown"; a batch starts no request after _send_deadline
    max_batch = 500
    one_per_request = True
    idempotent = False  # Meta has no idempotency key: a message that may have left is never sent again
    has_webhook = True

    @cached_property
    def graph(self) -> GraphClient:
        """Template, upload and check calls (requests); sends go through `sender`."""
        return GraphClient(
            base_url=self.settings.get("base_url") or DEFAULT_BASE_URL,
            version=self.settings.get("api_version") or DEFAULT_VERSION,
            access_token=self.credentials.get("access_token", ""),
        )

    @cached_property
    def sender(self) -> GraphSender:
        """The send path's client (libcurl's multi interface): its connections stay open between batches."""
        return GraphSender(
            base_url=self.settings.get("base_url") or DEFAULT_BASE_URL,
            version=self.settings.get("api_version") or DEFAULT_VERSION,
            access_token=self.credentials.get("access_token", ""),
            concurrency=SEND_CONCURRENCY,
        )

    @property
    def rate_limit(self) -> float:
        return float(self.settings.get("rate_limit") or DEFAULT_RATE)

    def price_for(self, category: str) -> Decimal | None:
        """The price of one message of a template `category` (settings price_marketing, …)."""
        value = self.settings.get(f"price_{category.lower()}")
        return Decimal(str(value)) if value not in (None, "") else None

    @property
    def verify_token(self) -> str:
        return self.settings.get("verify_token", "")

    # --- connection -------------------------------------------------------------------------
    def test_connection(self) -> CheckResult:
        """The phone number, then the WABA's numbers (is this number one of them?)."""
        graph = self.graph
        number_id, waba_id = self.settings.get("phone_number_id", ""), self.settings.get("waba_id", "")
        try:
            number = graph.get(number_id, params={"fields": "display_phone_number,verified_name,quality_rating"})
        except (GraphError, GraphUnreachable) as exc:
            return CheckResult(ok=False, message=_check_words(exc, f"the phone number id {number_id}"))
        try:
            numbers = graph.get(f"{waba_id}/phone_numbers", params={"fields": "id", "limit": PAGE_LIMIT})
        except (GraphError, GraphUnreachable) as exc:
            return CheckResult(ok=False, message=_check_words(exc, f"the WhatsApp Business account id {waba_id}"))
        ids = {str(n.get("id")) for n in numbers.get("data") or [] if isinstance(n, dict)}
        shown = f"{number.get('display_phone_number', '')} ({number.get('verified_name', '')})".strip()
        if ids and number_id not in ids:
            return CheckResult(
                ok=False,
                message=f"The phone number {shown} is not one of WhatsApp Business account {waba_id}'s numbers; "
                "check both ids in WhatsApp Manager.",
            )
        quality = number.get("quality_rating")
        return CheckResult(
            ok=True,
            message=f"Connected to {shown}" + (f", quality {quality}" if quality else "") + ".",
        )

    # --- templates (W2–W5) ------------------------------------------------------------------
    def templates_list(self, *, status: str = "") -> list[Template]:
        """Every template of the WABA in every language, following Graph's paging to the end."""
        graph = self.graph
        params: dict = {
            "limit": PAGE_LIMIT,
            "fields": "id,name,language,status,category,previous_category,components,rejected_reason,parameter_format",
        }
        if status:
            params["status"] = status
        found: list[Template] = []
        path: str = f"{self.settings['waba_id']}/message_templates"
        for _page in range(MAX_PAGES):
            page = _call(lambda path=path, params=params: graph.get(path, params=params), "listing templates")
            for record in page.get("data") or []:
                if template := template_from_graph(record):
                    found.append(template)
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            after = (paging.get("cursors") or {}).get("after") if isinstance(paging.get("cursors"), dict) else None
            following = paging.get("next")
            if not following or not page.get("data"):
                return found
            if isinstance(following, str) and graph.same_origin(following):
                path, params = following, None  # the link carries the query and cursor already
            elif after:  # a link to another host: keep our own URL, take only the cursor
                path = f"{self.settings['waba_id']}/message_templates"
                params = {**(params or {}), "after": after}
            else:
                return found
        logger.warning("WhatsApp template list stopped after %d pages", MAX_PAGES)
        return found

    def template_get(self, *, template_id: str) -> Template | None:
        record = _call(lambda: self.graph.get(template_id), "reading a template")
        return template_from_graph(record)

    def template_create(
        self, *, name: str, language: str, category: str, components: list[dict], parameter_format: str = "POSITIONAL"
    ) -> CreatedTemplate:
        """Submit a template for review; Meta answers PENDING and later pushes its verdict (§6.5)."""
        if problems := template_problems(name=name, category=category, components=components):
            raise WhatsAppSendError("the template cannot be submitted: " + "; ".join(problems), permanent=True)
        body = {
            "name": name,
            "language": language,
            "category": category,
            "parameter_format": parameter_format,
            "components": components,
        }
        answer = _call(
            lambda: self.graph.post(f"{self.settings['waba_id']}/message_templates", body=body), "creating a template"
        )
        return CreatedTemplate(
            id=str(answer.get("id", "")),
            status=str(answer.get("status") or "PENDING"),
            category=str(answer.get("category") or category),
        )

    def template_delete(self, *, name: str, template_id: str = "") -> bool:
        """Delete a template: every language by name, or the one with `template_id`."""
        params = {"name": name, **({"hsm_id": template_id} if template_id else {})}
        answer = _call(
            lambda: self.graph.delete(f"{self.settings['waba_id']}/message_templates", params=params),
            "deleting a template",
        )
        return bool(answer.get("success"))

    def upload_sample(self, *, data: bytes, file_type: str, file_name: str) -> str:
        """The handle for a media header's `example.header_handle` (Resumable Upload API, uploads.py)."""
        app_id = self.settings.get("app_id", "")
        return uploads.upload_sample(self.graph, app_id=app_id, data=data, file_type=file_type, file_name=file_name)

    # --- sending (W1) -----------------------------------------------------------------------
    def request_body(self, message: OutboundMessage) -> dict:
        body: dict = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.to.lstrip("+"),
            "biz_opaque_callback_data": message.key,
        }
        if message.template_name:
            template: dict = {"name": message.template_name, "language": {"code": message.template_language}}
            if message.template_components:
                template["components"] = list(message.template_components)
            body.update(type="template", template=template)
        else:
            body.update(type="text", text={"body": message.text, "preview_url": False})
        return body

    def send(self, message: OutboundMessage) -> SendResult:
        """One message. Meta's verdict on this message comes back as a SendResult (rejected with
        Meta's reason in words); anything that concerns more than this message, or whose outcome
        is unknown, raises WhatsAppSendError (see its flags)."""
        outcome = self.send_each([message])[0]
        if isinstance(outcome, WhatsAppSendError):
            raise outcome
        return outcome

    def _verdict(self, message: OutboundMessage, answer: dict | GraphError | GraphUnreachable) -> SendResult:
        """Graph's answer to one message (or how its request failed) in our terms; raises WhatsAppSendError."""
        if isinstance(answer, GraphUnreachable):
            raise WhatsAppSendError(f"WhatsApp: {answer}", maybe_sent=answer.maybe_sent)
        if isinstance(answer, GraphError):
            return self._refused(message, answer)
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        wamid = first.get("id")
        if not isinstance(wamid, str) or not wamid:
            raise WhatsAppSendError("WhatsApp answered without a message id; it may have been sent", maybe_sent=True)
        raw = str(first.get("message_status") or "accepted")
        if raw not in ACCEPTED:
            logger.info("WhatsApp message %s accepted with status %r", message.key, raw)
        return SendResult(key=message.key, status=DeliveryStatus.QUEUED, provider_id=wamid, raw_status=raw)

    def _refused(self, message: OutboundMessage, exc: GraphError) -> SendResult:
        reading = meta_error(exc.code, subcode=exc.subcode, transient=exc.transient)
        words = describe(exc.code, exc.message, exc.details, subcode=exc.subcode)
        code = str(exc.code) if exc.code is not None else str(exc.http_status)
        flags = {"meta_code": exc.code, "code": code}
        if exc.code is None and exc.http_status >= 500:  # not Graph's answer: the message may have gone
            raise WhatsAppSendError(f"WhatsApp server error {exc.http_status}", maybe_sent=True, **flags)
        if reading.kind == Kind.ACCOUNT:
            logger.warning("WhatsApp account problem on send %s: %s (trace %s)", message.key, words, exc.trace_id)
            raise WhatsAppSendError(words, permanent=True, status=DeliveryStatus.FAILED, account_problem=True, **flags)
        if reading.kind == Kind.STOP_CAMPAIGN:
            logger.warning("WhatsApp asks to stop sending (%s): %s", code, words)
            raise WhatsAppSendError(words, permanent=True, status=DeliveryStatus.FAILED, stop_campaign=True, **flags)
        if reading.kind in (Kind.BACKOFF, Kind.PAIR_RATE):
            raise WhatsAppSendError(
                words, retry_after=reading.retry_after, per_recipient=reading.kind == Kind.PAIR_RATE, **flags
            )
        if exc.http_status >= 500:  # a coded 5xx: Meta may have taken it before failing
            raise WhatsAppSendError(words, maybe_sent=True, **flags)
        if reading.kind == Kind.RETRY:
            raise WhatsAppSendError(words, retry_after=reading.retry_after, **flags)
        return SendResult(
            key=message.key,
            status=reading.status,
            raw_status=code,
            error=words,
            consent_refused=reading.consent_refused,
        )

    def send_each(self, messages: list[OutboundMessage]) -> list[SendResult | WhatsAppSendError]:
        """The dispatcher's interface: every message its own request, SEND_CONCURRENCY in flight at
        once from this thread (multi.py), and its own outcome (a refusal of one never makes another
        look unsent)."""
        path = f"{self.settings['phone_number_id']}/messages"
        answers = self.sender.post_each([Post(path, self.request_body(m)) for m in messages], deadline=_send_deadline())
        outcomes: list[SendResult | WhatsAppSendError] = []
        for message, answer in zip(messages, answers, strict=True):
            try:
                outcomes.append(self._verdict(message, answer))
            except WhatsAppSendError as exc:
                outcomes.append(exc)
        return outcomes

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        """One after the other (the dispatcher uses send_each). Once one was accepted a later error
        cannot be raised without making the accepted ones look unsent; the messages not tried are
        then failed with the reason instead."""
        results: list[SendResult] = []
        for index, message in enumerate(messages):
            try:
                results.append(self.send(message))
            except WhatsAppSendError as exc:
                if not results:
                    raise
                reason = f"{exc}; it may have been sent, so it is not resent" if exc.maybe_sent else f"not sent: {exc}"
                results.append(SendResult(key=message.key, status=DeliveryStatus.FAILED, error=reason))
                results += [
                    SendResult(key=m.key, status=DeliveryStatus.FAILED, error=f"not sent: {exc}")
                    for m in messages[index + 1 :]
                ]
                break
        return results

    # --- webhooks (§6.5) ------------------------------------------------------------------------
    def verify_webhook(self, *, body: bytes, headers: dict[str, str]) -> bool:
        return webhooks.signature_valid(body=body, headers=headers, app_secret=self.credentials.get("app_secret", ""))

    def verify_handshake(self, *, mode: str | None, token: str | None, challenge: str | None) -> str | None:
        """GET hub.mode / hub.verify_token / hub.challenge: the challenge to echo, or None (403)."""
        return webhooks.handshake(mode=mode, token=token, challenge=challenge, verify_token=self.verify_token)

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvents:
        return webhooks.parse(body)


def _send_deadline() -> float:
    """When a batch stops starting requests: the rest are not sent (retried later), so a slow Meta
    cannot keep a batch past its claim's timeout (the reaper would then take its rows for stopped).
    Half the timeout, less the longest a started request may take."""
    from django.conf import settings

    budget = getattr(settings, "SMS_CLAIM_TIMEOUT_SECONDS", 120) / 2 - client.READ_TIMEOUT
    return time.monotonic() + max(budget, 5.0)


def _call(fn, doing: str) -> dict:
    """A management call (templates): Graph's refusals become WhatsAppSendError with words."""
    try:
        return fn()
    except GraphUnreachable as exc:
        raise WhatsAppSendError(f"WhatsApp, {doing}: {exc}", maybe_sent=exc.maybe_sent) from None
    except GraphError as exc:
        reading = meta_error(exc.code, subcode=exc.subcode, transient=exc.transient)
        words = describe(exc.code, exc.message, exc.details, subcode=exc.subcode)
        raise WhatsAppSendError(
            f"WhatsApp, {doing}: {words}",
            permanent=reading.kind in (Kind.ACCOUNT, Kind.MESSAGE, Kind.STOP_CAMPAIGN),
            retry_after=reading.retry_after,
            meta_code=exc.code,
            code=str(exc.code if exc.code is not None else exc.http_status),
            account_problem=reading.kind == Kind.ACCOUNT,
        ) from None


def _check_words(exc: GraphError | GraphUnreachable, what: str) -> str:
    if isinstance(exc, GraphUnreachable):
        return f"Meta's Graph API could not be reached: {exc}. Check the base URL and the network."
    reading = meta_error(exc.code, subcode=exc.subcode)
    if exc.code in (0, 190):
        return "Meta refused the access token (wrong, expired or revoked). Make a new system-user token."
    if exc.code in (3, 10) or (exc.code is not None and 200 <= exc.code <= 299):
        return (
            f"The access token has no permission for {what}. Give the system user whatsapp_business_messaging "
            "and whatsapp_business_management on this WhatsApp Business account."
        )
    if exc.code == 100 or exc.http_status == 404:
        return f"Meta does not know {what} (or the token cannot see it). Copy the ids again from WhatsApp Manager."
    return f"Meta refused the check of {what}: {reading.words} ({exc.details or exc.message or exc.http_status})."
