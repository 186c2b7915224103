"""Infobip SMS (providers.md §1): POST /sms/3/messages with `Authorization: App <key>`, our
message id as `destinations[].messageId` (Infobip's idempotency: a repeat is refused with
REJECTED_DUPLICATE_MESSAGE_ID, which we read as "already accepted"), `turkeyIys` on commercial
sends, delivery reports pushed to our webhook (§1.6)."""

from __future__ import annotations

import json
from datetime import datetime

import requests
from django import forms
from django.utils.translation import gettext_lazy as _

from providers.base import (
    Channel,
    CheckResult,
    DeliveryReport,
    DeliveryStatus,
    MessagingConnector,
    OutboundMessage,
    SendError,
    SendResult,
    WebhookEvents,
    WebhookRejected,
)
from providers.parsing import as_decimal, as_dict, as_identifier, as_int, as_text, webhook_json
from providers.sms import SmsAccountForm, post, retry_after

# Infobip status id → common status (§1.7)
STATUS_BY_ID = {
    26: DeliveryStatus.QUEUED,
    7: DeliveryStatus.SENT,
    3: DeliveryStatus.SENT,
    2: DeliveryStatus.SENT,  # DELIVERED_TO_OPERATOR is intermediate despite its group
    5: DeliveryStatus.DELIVERED,
    4: DeliveryStatus.UNDELIVERED,
    9: DeliveryStatus.UNDELIVERED,
    31: DeliveryStatus.UNDELIVERED,
    15: DeliveryStatus.EXPIRED,
    29: DeliveryStatus.EXPIRED,
    21: DeliveryStatus.FAILED,
    100: DeliveryStatus.FAILED,
}
STATUS_BY_GROUP = {
    "PENDING": DeliveryStatus.QUEUED,
    "ACCEPTED": DeliveryStatus.QUEUED,
    "DELIVERED": DeliveryStatus.DELIVERED,
    "UNDELIVERABLE": DeliveryStatus.UNDELIVERED,
    "EXPIRED": DeliveryStatus.EXPIRED,
    "REJECTED": DeliveryStatus.REJECTED,
}
DUPLICATE_MESSAGE_ID = 23
# error ids that mean the number itself is gone (§1.7): the phone is marked Bounced
BOUNCE_ERRORS = {1}  # EC_UNKNOWN_SUBSCRIBER
TURKISH_ONLY = frozenset("çğıİşŞĞ")


def known_status(status: dict) -> str | None:
    """The common status of an Infobip status object, None when neither its id nor its group is known."""
    status_id = as_int(status.get("id"), high=10**6)
    if status_id in STATUS_BY_ID:
        return STATUS_BY_ID[status_id]
    return STATUS_BY_GROUP.get(as_text(status.get("groupName")).upper())


def common_status(status: dict) -> str:
    return known_status(status) or DeliveryStatus.SENT


def _is_iys_refusal(status: dict, error: dict) -> bool:
    # No İYS-specific code is documented (providers.md §9.2); a rejection naming İYS is read as one.
    words = " ".join(
        as_text(x) for x in (status.get("name"), status.get("description"), error.get("name"), error.get("description"))
    )
    return as_text(status.get("groupName")).upper() == "REJECTED" and ("IYS" in words.upper() or "İYS" in words)


class InfobipForm(SmsAccountForm):
    base_url = forms.URLField(
        assume_scheme="https",
        label=_("Base URL"),
        help_text=_("Your account's API base URL from the Infobip portal, e.g. https://xxxxx.api.infobip.com."),
    )
    api_key = forms.CharField(label=_("API key"), widget=forms.PasswordInput(render_value=False))
    brand_code = forms.IntegerField(
        label=_("İYS brand code"),
        required=False,
        help_text=_("Sent as turkeyIys.brandCode on newsletters to Turkish numbers; empty: the account's default."),
    )


class InfobipConnector(MessagingConnector):
    name = "infobip"
    label = _("Infobip SMS")
    channel = Channel.SMS
    config_form = InfobipForm
    secret_fields = ("api_key",)
    max_batch = 1000  # per request; not documented by Infobip (providers.md §9.1)
    idempotent = True
    has_webhook = True
    nli = True

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(
            {
                "Authorization": f"App {self.credentials.get('api_key', '')}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        return session

    @property
    def base_url(self) -> str:
        return self.settings["base_url"].rstrip("/")

    def request_body(self, messages: list[OutboundMessage], *, webhook_url: str) -> dict:
        items = []
        for message in messages:
            content: dict = {"text": message.text}
            if TURKISH_ONLY & set(message.text):
                content["language"] = {"languageCode": "TR"}
            item: dict = {
                "sender": message.sender,
                "destinations": [{"to": message.to.lstrip("+"), "messageId": message.key}],
                "content": content,
            }
            if message.commercial and message.to.startswith("+90"):
                iys: dict = {"recipientType": message.recipient_type}
                if self.settings.get("brand_code"):
                    iys["brandCode"] = int(self.settings["brand_code"])
                item["options"] = {"regional": {"turkeyIys": iys}}
            if webhook_url:
                item["webhooks"] = {
                    "delivery": {"url": webhook_url, "intermediateReport": False},
                    "contentType": "application/json",
                }
            items.append(item)
        return {"messages": items, "options": {"includeSmsCountInResponse": True}}

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        body = self.request_body(messages, webhook_url=webhook_url)
        response = post(self._session(), f"{self.base_url}/sms/3/messages", data=json.dumps(body))
        if response.status_code == 429:
            raise SendError("Infobip: too many requests", code="429", retry_after=retry_after(response))
        if response.status_code in (401, 403):
            raise SendError(
                f"Infobip refused the API key ({response.status_code})",
                permanent=True,
                code=str(response.status_code),
                status=DeliveryStatus.FAILED,
            )
        if response.status_code >= 500:
            raise SendError(
                f"Infobip server error {response.status_code}", code=str(response.status_code), maybe_sent=True
            )
        if response.status_code >= 400:
            raise SendError(
                f"Infobip refused the request: {_error_text(response)}", permanent=True, code=str(response.status_code)
            )
        try:
            answered = {m.get("messageId"): m for m in response.json().get("messages", [])}
        except ValueError:
            raise SendError("Infobip answered with something that is not JSON", maybe_sent=True) from None
        results = []
        for message in messages:
            item = answered.get(message.key)
            if item is None:
                results.append(
                    SendResult(key=message.key, status=DeliveryStatus.FAILED, error="not in Infobip's answer")
                )
                continue
            status = item.get("status", {})
            raw = f"{status.get('groupName', '')}/{status.get('name', '')}"
            if status.get("id") == DUPLICATE_MESSAGE_ID:  # sent before (a retry after a lost answer)
                results.append(
                    SendResult(key=message.key, status=DeliveryStatus.QUEUED, provider_id=message.key, raw_status=raw)
                )
                continue
            results.append(
                SendResult(
                    key=message.key,
                    status=common_status(status),
                    provider_id=item.get("messageId", ""),
                    raw_status=raw,
                    error=status.get("description", "") if status.get("groupName") == "REJECTED" else "",
                    segments=(item.get("details") or {}).get("messageCount"),
                    consent_refused=_is_iys_refusal(status, {}),
                )
            )
        return results

    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> WebhookEvents:
        payload = webhook_json(body)
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise WebhookRejected("not an Infobip delivery report: no list of results")
        events = WebhookEvents()
        for index, result in enumerate(results):
            if not isinstance(result, dict):
                events.problems.append(f"results[{index}] is not an object")
                continue
            message_id = as_identifier(result.get("messageId"))
            status = as_dict(result.get("status"))
            common = known_status(status)
            if not message_id or common is None:
                missing = "no usable messageId" if not message_id else "no known status"
                events.problems.append(f"results[{index}]: {missing}")
                continue
            error = as_dict(result.get("error"))
            error_id = as_int(error.get("id"), high=10**6)
            error_name = f"{as_text(error.get('name'))}: {as_text(error.get('description'))}" if error_id else ""
            reports_segments = as_int(result.get("messageCount"), low=1) or as_int(result.get("smsCount"), low=1)
            events.reports.append(
                DeliveryReport(
                    key=message_id,
                    provider_id=message_id,
                    status=common,
                    raw_status=f"{as_text(status.get('groupName'))}/{as_text(status.get('name'))}",
                    error=error_name,
                    bounce=error_id in BOUNCE_ERRORS,
                    consent_refused=_is_iys_refusal(status, error),
                    price=as_decimal(as_dict(result.get("price")).get("pricePerMessage")),
                    segments=reports_segments,
                    done_at=_when(result.get("doneAt")),
                )
            )
        return events

    def test_connection(self) -> CheckResult:
        # the preview endpoint checks the key without sending anything or consuming reports (§1.2 I6)
        try:
            response = post(self._session(), f"{self.base_url}/sms/1/preview", data=json.dumps({"text": "test"}))
        except SendError as exc:
            return CheckResult(ok=False, message=str(exc))
        if response.status_code in (401, 403):
            return CheckResult(ok=False, message=str(_("Infobip refused the API key. Check the key and the base URL.")))
        if response.status_code != 200:
            return CheckResult(ok=False, message=f"Infobip answered {response.status_code}: {_error_text(response)}")
        return CheckResult(ok=True, message=str(_("Infobip accepted the API key.")))


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if "requestError" in body:
        return body["requestError"].get("serviceException", {}).get("text", "")
    violations = "; ".join(f"{v.get('property')}: {v.get('violation')}" for v in body.get("violations") or [])
    return " ".join(x for x in (body.get("description", ""), violations) if x)


def _when(value) -> datetime | None:
    text = as_text(value, limit=40)
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None
