"""Instasent SMS (providers.md §4): Transactional API, `Authorization: Bearer <token>`, bulk of at
most 100 as a JSON array (partial success: `entities` accepted, `errors` refused), our message id
as `clientId`, delivery reports and inbound replies (STOP) POSTed to the callback URL the admin
pastes into Instasent (§4.5). No signature is documented, so the URL secret authenticates."""

from __future__ import annotations

import json

import requests
from django import forms
from django.utils.translation import gettext_lazy as _

from providers.base import (
    Channel,
    CheckResult,
    DeliveryReport,
    DeliveryStatus,
    InboundMessage,
    MessagingConnector,
    OutboundMessage,
    SendError,
    SendResult,
    WebhookEvents,
)
from providers.parsing import as_identifier, as_text, webhook_json
from providers.sms import SmsAccountForm, post

DEFAULT_BASE_URL = "https://api.instasent.com/transactional/v1"
STATUS = {
    "enqueued": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "accepted": DeliveryStatus.SENT,
    "buffered": DeliveryStatus.SENT,
    "unknown": DeliveryStatus.SENT,  # wait for a final report
    "delivered": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,  # Instasent's "bounce"
    "error": DeliveryStatus.FAILED,
    "expired": DeliveryStatus.EXPIRED,
    "rejected": DeliveryStatus.REJECTED,
    "canceled": DeliveryStatus.FAILED,
    "unpaid": DeliveryStatus.REJECTED,
}
STOP_WORDS = {"STOP", "DUR", "IPTAL", "İPTAL", "RET"}


class InstasentForm(SmsAccountForm):
    base_url = forms.URLField(label=_("Base URL"), initial=DEFAULT_BASE_URL, assume_scheme="https")
    token = forms.CharField(label=_("API token"), widget=forms.PasswordInput(render_value=False))


class InstasentConnector(MessagingConnector):
    name = "instasent"
    label = _("Instasent SMS")
    channel = Channel.SMS
    config_form = InstasentForm
    secret_fields = ("token",)
    max_batch = 100
    idempotent = False  # clientId uniqueness is not documented as enforced (providers.md §9.6)
    has_webhook = True
    nli = False  # NLI support for Turkish unconfirmed (§9.6): count GSM-7 or UCS-2

    @property
    def base_url(self) -> str:
        return (self.settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(
            {
                "Authorization": f"Bearer {self.credentials.get('token', '')}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        return session

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        body = [
            {"from": m.sender, "to": m.to, "text": m.text, "clientId": m.key, "allowUnicode": True} for m in messages
        ]
        response = post(self._session(), f"{self.base_url}/sms/bulk", data=json.dumps(body))
        if response.status_code == 429:
            reset = response.headers.get("X-RateLimit-Reset")
            import time

            wait = max(1.0, float(reset) - time.time()) if reset and reset.isdigit() else 5.0
            raise SendError("Instasent: rate limit reached", code="429", retry_after=wait)
        if response.status_code == 401:
            raise SendError(
                "Instasent refused the API token (401)", permanent=True, code="401", status=DeliveryStatus.FAILED
            )
        if response.status_code == 402:
            raise SendError("Instasent: no funds left on the account (402)", permanent=True, code="402")
        if response.status_code >= 500:
            raise SendError(
                f"Instasent server error {response.status_code}", code=str(response.status_code), maybe_sent=True
            )
        if response.status_code >= 400:
            raise SendError(
                f"Instasent refused the request ({response.status_code}): {response.text[:200]}",
                permanent=True,
                code=str(response.status_code),
            )
        try:
            answer = response.json()
        except ValueError:
            raise SendError("Instasent answered with something that is not JSON", maybe_sent=True) from None
        accepted = {e.get("clientId"): e for e in answer.get("entities") or []}
        refused = {e.get("clientId"): e for e in answer.get("errors") or [] if isinstance(e, dict)}
        results = []
        for message in messages:
            if message.key in accepted:
                entity = accepted[message.key]
                status = str(entity.get("status") or "enqueued")
                results.append(
                    SendResult(
                        key=message.key,
                        status=STATUS.get(status, DeliveryStatus.QUEUED),
                        provider_id=str(entity.get("id", "")),
                        raw_status=status,
                        segments=entity.get("chunks"),
                    )
                )
            else:
                error = refused.get(message.key, {})
                results.append(
                    SendResult(
                        key=message.key,
                        status=DeliveryStatus.REJECTED,
                        raw_status="error",
                        error=_error_text(error) or "refused by Instasent",
                    )
                )
        return results

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvents:
        payload = webhook_json(body)
        events = WebhookEvents()
        items = payload if isinstance(payload, list) else [payload]
        for index, item in enumerate(items):
            where = f"item {index}" if isinstance(payload, list) else "the payload"
            if not isinstance(item, dict) or ("status" not in item and "message" not in item):
                events.problems.append(f"{where} is not an Instasent report or message")
                continue
            status = as_text(item.get("status"), limit=40)
            if "message" in item or status == "stop":  # an inbound message on the same endpoint
                text = as_text(item.get("message"), limit=2000)
                sender = as_identifier(item.get("from") or item.get("sender"), limit=32)
                if not sender:
                    events.problems.append(f"{where}: an inbound message without a usable sender")
                    continue
                sender = sender if sender.startswith("+") else f"+{sender}"
                stop = status == "stop" or text.strip().upper() in STOP_WORDS
                events.inbound.append(InboundMessage(sender=sender, text=text, stop=stop))
                continue
            key, provider_id = as_identifier(item.get("clientId")), as_identifier(item.get("id"))
            if status not in STATUS or not (key or provider_id):
                events.problems.append(
                    f"{where}: " + (f"unknown status {status!r}" if status not in STATUS else "no usable id")
                )
                continue
            events.reports.append(
                DeliveryReport(
                    key=key,
                    provider_id=provider_id,
                    status=STATUS[status],
                    raw_status=f"{status}/{as_text(item.get('code'), limit=40)}",
                    bounce=status == "failed",
                )
            )
        return events

    def test_connection(self) -> CheckResult:
        try:
            response = self._session().get(f"{self.base_url}/organization/account", timeout=10)
        except requests.RequestException as exc:
            return CheckResult(ok=False, message=f"could not reach Instasent: {exc}")
        if response.status_code == 401:
            return CheckResult(ok=False, message=str(_("Instasent refused the API token.")))
        if response.status_code != 200:
            return CheckResult(ok=False, message=f"Instasent answered {response.status_code}")
        return CheckResult(ok=True, message=str(_("Instasent accepted the token.")))


def _error_text(error: dict) -> str:
    if not error:
        return ""
    fields = error.get("fields") or error.get("errors") or {}
    return str(error.get("message") or error.get("error") or fields)[:255]
