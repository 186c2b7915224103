"""Meta's webhooks (providers.md §6.5): the signature over the raw bytes, the GET handshake, and
the notification body read into typed events. Meta batches (several entries, changes, statuses),
repeats and reorders; whatever has an unexpected shape is skipped with a log line, never raised."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import unicodedata
from datetime import UTC, datetime

from providers.base import DeliveryReport, DeliveryStatus, InboundMessage, TemplateStatusUpdate, WebhookEvents
from providers.whatsapp.errors import RETRYABLE_FAILURES, describe, meta_error
from providers.whatsapp.templates import STOP_PROMO_PAYLOAD

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "x-hub-signature-256"
STOP_WORDS = frozenset({"stop", "dur", "iptal"})  # product.md: STOP, DUR, IPTAL, İPTAL in any case
STOP_PAYLOADS = frozenset({STOP_PROMO_PAYLOAD.lower(), "stop_promotions", "stop promotions"})
_PUNCTUATION = " \t\r\n.!?,;:'\"()-_*"


def signature_valid(*, body: bytes, headers: dict[str, str], app_secret: str) -> bool:
    """X-Hub-Signature-256 is `sha256=` + HMAC-SHA256(app secret, raw body), compared in constant time."""
    if not app_secret:
        return False  # no secret configured: nothing can be verified, so nothing is accepted
    header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
    scheme, _, given = str(header).strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace"))


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send (used by the fake and by tests)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def handshake(*, mode: str | None, token: str | None, challenge: str | None, verify_token: str) -> str | None:
    """The GET verification: the challenge to answer (200, raw body) or None (answer 403)."""
    if mode != "subscribe" or not verify_token or token is None or challenge is None:
        return None
    if not hmac.compare_digest(str(token).encode(), verify_token.encode()):
        return None
    return str(challenge)


def is_stop(text: str) -> bool:
    """An opt-out reply: the whole message is a stop word, in any case, Turkish I's included."""
    folded = unicodedata.normalize("NFC", text).replace("İ", "i").replace("I", "i").replace("ı", "i").casefold()
    return folded.strip(_PUNCTUATION) in STOP_WORDS


def parse(body: bytes) -> WebhookEvents:
    events = WebhookEvents()
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        _skip(events, f"the body is not JSON ({len(body)} bytes)")
        return events
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        _skip(events, "the body has no entry list")
        return events
    for at, entry in enumerate(payload["entry"]):
        changes = _get(entry, "changes")
        if not isinstance(changes, list):
            _skip(events, f"entry[{at}] has no changes")
            continue
        for number, change in enumerate(changes):
            try:
                _change(change, events)
            except Exception:  # a shape we did not foresee: skip this change, keep the others
                # the shape, never the content (it holds phone numbers and message text)
                logger.warning(
                    "WhatsApp webhook change skipped: unexpected shape (field %.60r, keys %.200r)",
                    _get(change, "field"),
                    sorted(map(str, change)) if isinstance(change, dict) else type(change).__name__,
                    exc_info=True,
                )
                _skip(events, f"entry[{at}].changes[{number}] has an unexpected shape")
    return events


def _change(change, events: WebhookEvents) -> None:
    field, value = _get(change, "field"), _get(change, "value")
    if not isinstance(value, dict):
        _skip(events, f"a change ({str(field)[:60]}) has no value")
        return
    if field == "messages":
        for status in _list(value, "statuses"):
            if report := _report(status, events):
                events.reports.append(report)
        for message in _list(value, "messages"):
            if inbound := _inbound(message, events):
                events.inbound.append(inbound)
    elif field == "message_template_status_update":
        if update := _template_update(value, events):
            events.template_updates.append(update)
    elif field == "user_preferences":
        for preference in _list(value, "user_preferences"):
            if _get(preference, "category") == "marketing_messages" and _get(preference, "value") == "stop":
                events.inbound.append(
                    InboundMessage(
                        sender=_e164(_get(preference, "wa_id")),
                        text=str(_get(preference, "detail") or "stopped marketing messages"),
                        stop=True,
                        received_at=_when(_get(preference, "timestamp")),
                    )
                )
            else:
                logger.info("WhatsApp user preference not acted on: %.200r", preference)
    else:
        logger.info("WhatsApp webhook field %.60r not handled", field)


STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "played": DeliveryStatus.DELIVERED,
}


def _report(status, events: WebhookEvents) -> DeliveryReport | None:
    name, wamid = _get(status, "status"), _get(status, "id")
    if not isinstance(name, str) or not isinstance(wamid, str) or not wamid:
        _skip(events, "a status without an id or a status name")
        return None
    key = _get(status, "biz_opaque_callback_data")
    key = key if isinstance(key, str) else ""
    at = _when(_get(status, "timestamp"))
    if name in STATUSES:
        read = name in ("read", "played")
        return DeliveryReport(
            status=STATUSES[name],
            key=key,
            provider_id=wamid,
            raw_status=name,
            done_at=at if name == "delivered" else None,
            read_at=at if read else None,
        )
    if name != "failed":
        _skip(events, f"status {name[:40]!r} for {wamid[:80]} is not one we know")
        return None
    errors = _get(status, "errors")
    error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = _code(error.get("code"))
    reading = meta_error(code)
    details = _get(error.get("error_data"), "details")
    words = describe(
        code, str(error.get("message") or error.get("title") or ""), details if isinstance(details, str) else ""
    )
    retryable = code in RETRYABLE_FAILURES
    return DeliveryReport(
        status=DeliveryStatus.FAILED if retryable else reading.status,
        key=key,
        provider_id=wamid,
        raw_status=f"failed/{code}" if code is not None else "failed",
        error=words,
        consent_refused=reading.consent_refused,
        done_at=at,
        retryable=retryable,
    )


def _inbound(message, events: WebhookEvents) -> InboundMessage | None:
    sender, kind = _get(message, "from"), _get(message, "type")
    if not isinstance(sender, str) or not sender:
        _skip(events, "an inbound message without a sender")
        return None
    text, stop = "", False
    if kind == "text":
        text = str(_get(_get(message, "text"), "body") or "")
        stop = is_stop(text)
    elif kind == "button":  # a template's quick-reply tap
        button = _get(message, "button")
        payload, text = str(_get(button, "payload") or ""), str(_get(button, "text") or "")
        stop = _stop_payload(payload) or is_stop(text) or _stop_payload(text)
    elif kind == "interactive":
        interactive = _get(message, "interactive")
        reply = _get(interactive, "button_reply") or _get(interactive, "list_reply") or {}
        payload, text = str(_get(reply, "id") or ""), str(_get(reply, "title") or "")
        stop = _stop_payload(payload) or is_stop(text)
    elif kind == "system" and _get(_get(message, "system"), "type") == "user_preference_changed":
        system = _get(message, "system")
        text = str(_get(system, "body") or "")
        stop = _get(system, "marketing") == "stop"
    else:  # media, reactions, locations…: no text to read, but the window opens all the same
        caption = _get(_get(message, kind), "caption") if isinstance(kind, str) else None
        text = str(caption or f"[{kind}]")
    wamid = _get(message, "id")
    return InboundMessage(
        sender=_e164(sender),
        text=text,
        stop=stop,
        provider_id=wamid if isinstance(wamid, str) else "",
        received_at=_when(_get(message, "timestamp")),
    )


def _template_update(value: dict, events: WebhookEvents) -> TemplateStatusUpdate | None:
    event, template_id = _get(value, "event"), _get(value, "message_template_id")
    if not isinstance(event, str) or template_id in (None, ""):
        _skip(events, "a template status update without an event or a template id")
        return None
    reasons = []
    if (reason := _get(value, "reason")) and reason != "NONE":
        reasons.append(str(reason).replace("_", " ").lower())
    for block, fields in (("rejection_info", ("reason", "recommendation")), ("other_info", ("title", "description"))):
        for name in fields:
            if (text := _get(_get(value, block), name)) and str(text).lower() not in " ".join(reasons).lower():
                reasons.append(str(text))
    if disabled := _get(_get(value, "disable_info"), "disable_date"):
        reasons.append(f"disabled on {disabled}")
    return TemplateStatusUpdate(
        template_id=str(template_id),
        name=str(_get(value, "message_template_name") or ""),
        language=str(_get(value, "message_template_language") or ""),
        status=event,
        reason="; ".join(reasons),
        category=str(_get(value, "message_template_category") or ""),
    )


def _skip(events: WebhookEvents, problem: str) -> None:
    """An item we cannot use: kept in events.problems (logged with the account id by the task)."""
    logger.info("WhatsApp webhook item skipped: %s", problem)
    problems = getattr(events, "problems", None)
    if problems is not None:
        problems.append(problem)


def _stop_payload(value: str) -> bool:
    return value.strip().lower() in STOP_PAYLOADS or is_stop(value)


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else None


def _list(obj, name) -> list:
    value = _get(obj, name)
    return value if isinstance(value, list) else []


def _code(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _e164(wa_id) -> str:
    digits = str(wa_id or "").strip().lstrip("+")
    return f"+{digits}" if digits else ""


def _when(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
