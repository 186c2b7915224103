"""A fake Meta WhatsApp Cloud API (Graph) over real HTTP on 127.0.0.1 (providers.md §6.9).

- `Bearer` token check: a wrong token is 401 with code 190; a token in `limited_tokens` is valid
  but has no permission (code 10).
- GET /{v}/{phone-number-id}, GET /{v}/{waba}/phone_numbers; an unknown id is code 100/33.
- Templates: GET /{v}/{waba}/message_templates with cursor paging (`page_size` a page, `next`
  links), POST (→ PENDING), DELETE by name (and hsm_id), GET /{v}/{template-id}. Control methods
  `approve`, `reject`, `pause`, `disable` change a template and post the signed
  message_template_status_update webhook to `callback_url`.
- POST /{v}/{phone-number-id}/messages checks a template send against the stored template
  (132001 unknown name/language or not approved, 132015 paused, 132016 disabled, 132000 wrong
  parameter count per component) and a free text against the 24-hour window (outside it: accepted,
  then a `failed` 131047 status, as Meta does). Magic recipients by their last four digits (MAGIC).
- Status webhooks (sent, delivered, read; failed with errors) are signed with the app secret and
  posted in batches (several entries and changes a POST), optionally shuffled (`shuffle`) and
  repeated (`repeat`); a callback that does not answer 2xx is retried, as Meta does.
- `inbound_text` / `inbound_button` post a signed inbound message and open the window.
- Resumable Upload API (template samples): POST /{v}/{app_id}/uploads (Bearer or access_token) →
  an `upload:…?sig=…` session; POST on it (`Authorization: OAuth`, `file_offset` header, raw bytes)
  → the handle `4::…` once whole; GET on it → {"id", "file_offset"}. `cut_upload_after` drops the
  connection mid-upload. A template's media header must carry a handle this fake issued (else 100).
  `SampleServer` hosts the samples the panel fetches.
- Books: `accepted` (wamid → what was sent), `recipients()` and `keys()` count what was accepted
  per number and per our message key, so tests count duplicates and losses by the fake's books.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import queue
import random
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from functools import cached_property
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlencode, urlparse

import requests

from tests.fakes.base import FakeServer

# magic recipients by the end of the number
ASYNC_FAILURES = {  # accepted (200), then a `failed` status webhook with this code
    "0026": (131026, "Message undeliverable", "Message Undeliverable."),
    "0047": (
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied.",
    ),
    "0049": (
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    "0472": (130472, "User's number is part of an experiment", "Failed to send message because of an experiment."),
    "0050": (
        131050,
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages.",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on "
        "WhatsApp from your business.",
    ),
}
SYNC_FAILURES = {  # refused at once with this Graph error
    "0429": (130429, "Rate limit hit", "Cloud API message throughput has been reached.", True),
    "0056": (131056, "(Business Account, Consumer Account) pair rate limit hit", "", True),
    "0048": (131048, "Spam rate limit hit", "Message failed to send because there are restrictions.", False),
    "0064": (131064, "Messaging limit reached", "Template classification violations.", False),
}
ACCEPT_THEN_500 = "0500"  # accepted and recorded, then answered 500 (the outcome looks unknown)
SILENT = "0009"  # accepted, no status webhook ever
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
WINDOW = 24 * 3600


class _QuickServer(FakeServer):
    def _serve(self, handler_class) -> None:
        super()._serve(handler_class)
        # stop() waits for the serve loop's poll; a short poll keeps each test's teardown short
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)


class WebhookSink(_QuickServer):
    """Our side of a webhook in tests: records each POST's raw bytes and headers, answers `status`."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[dict] = []
        self.fail_next = 0
        self._serve(self._handler())

    def _handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                code = sink.status
                if sink.fail_next > 0:
                    sink.fail_next -= 1
                    code = 500
                else:
                    sink.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler


class FakeWhatsApp(_QuickServer):
    def __init__(
        self,
        *,
        access_token: str = "test-token",  # noqa: S107
        app_secret: str = "test-app-secret",  # noqa: S107
        waba_id: str = "102290129340398",
        phone_number_id: str = "106540352242922",
        display_number: str = "908501234567",
        callback_url: str = "",
        page_size: int = 2,
    ):
        self.access_token = access_token
        self.app_secret = app_secret
        self.waba_id = waba_id
        self.phone_number_id = phone_number_id
        self.display_number = display_number
        self.callback_url = callback_url
        self.page_size = page_size
        self.limited_tokens: set[str] = set()
        self.templates: dict[str, dict] = {}
        self.accepted: dict[str, dict] = {}  # wamid -> the message as accepted
        self.requests: list[dict] = []  # {"method", "path", "headers", "body"}
        self.last_inbound: dict[str, float] = {}  # digits -> when the customer last wrote
        self.send_read = True  # follow delivered with read
        self.shuffle = False  # post a batch's statuses out of order
        self.repeat = False  # post each status twice
        self.status_batch = 5  # statuses per webhook POST
        self.hold_statuses = False  # keep statuses until set back to False (one batch, e.g. to shuffle)
        self.response_delay = 0.0  # before the answer (the message is recorded when the delay ends)
        self.in_flight = 0  # requests taken and not yet answered
        self.posted: list[dict] = []  # webhooks the callback took: {"body", "signature"}
        self.post_failures = 0
        self._random = random.Random(13)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._outstanding = 0  # statuses queued and not yet taken by the callback
        self._running = True
        self._serve(self._handler())
        self._poster = threading.Thread(target=self._post_statuses, daemon=True)

    def start(self):
        self._poster.start()
        return super().start()

    def stop(self):
        self._running = False
        super().stop()

    # --- books --------------------------------------------------------------------------------
    def recipients(self) -> Counter:
        """How many messages each number (digits) was sent, by the fake's own count."""
        return Counter(m["to"] for m in self.accepted.values())

    def keys(self) -> Counter:
        """How many times each of our message keys (biz_opaque_callback_data) was accepted."""
        return Counter(m["key"] for m in self.accepted.values())

    def release_statuses(self) -> None:
        self.hold_statuses = False

    def wait_for_webhooks(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._outstanding == 0:
                return
            time.sleep(0.02)
        raise AssertionError("the fake WhatsApp still had status webhooks to post")

    # --- control: templates --------------------------------------------------------------------
    def add_template(
        self,
        name: str,
        *,
        language: str = "tr",
        category: str = "MARKETING",
        body: str = "Merhaba {{1}}",
        components: list | None = None,
        status: str = "APPROVED",
        parameter_format: str = "POSITIONAL",
    ) -> str:
        template_id = str(1689556908129835 + next(self._ids))
        with self._lock:
            self.templates[template_id] = {
                "id": template_id,
                "name": name,
                "language": language,
                "category": category,
                "status": status,
                "parameter_format": parameter_format,
                "components": components if components is not None else [{"type": "BODY", "text": body}],
            }
        return template_id

    def approve(self, template_id: str) -> int | None:
        return self._template_event(template_id, "APPROVED")

    def reject(self, template_id: str, reason: str = "INVALID_FORMAT", recommendation: str = "") -> int | None:
        info = {"reason": reason.replace("_", " ").capitalize(), "recommendation": recommendation or "Fix the format"}
        return self._template_event(template_id, "REJECTED", reason=reason, rejection_info=info)

    def pause(self, template_id: str) -> int | None:
        info = {"title": "FIRST_PAUSE", "description": "Your template was paused because of low quality."}
        return self._template_event(template_id, "PAUSED", reason="NONE", other_info=info)

    def disable(self, template_id: str) -> int | None:
        return self._template_event(
            template_id, "DISABLED", reason="NONE", disable_info={"disable_date": "DATE_OF_DISABLE"}
        )

    def _template_event(self, template_id: str, event: str, **extra) -> int | None:
        with self._lock:
            template = self.templates[template_id]
            template["status"] = event
            if event == "REJECTED":
                template["rejected_reason"] = extra.get("reason", "NONE")
        value = {
            "event": event,
            "message_template_id": int(template_id),
            "message_template_name": template["name"],
            "message_template_language": template["language"],
            "message_template_category": template["category"],
            "reason": extra.pop("reason", None),
            **extra,
        }
        change = {"field": "message_template_status_update", "value": value}
        return self.post_webhook({"object": "whatsapp_business_account", "entry": [self._entry([change])]})

    # --- control: inbound --------------------------------------------------------------------
    def inbound_text(self, sender: str, text: str, *, at: float | None = None) -> int | None:
        return self._inbound(sender, {"type": "text", "text": {"body": text}}, at)

    def inbound_button(self, sender: str, payload: str, text: str = "", *, at: float | None = None) -> int | None:
        message = {"type": "button", "button": {"payload": payload, "text": text or payload}}
        return self._inbound(sender, message, at)

    def _inbound(self, sender: str, message: dict, at: float | None) -> int | None:
        digits = sender.lstrip("+")
        when = time.time() if at is None else at
        self.last_inbound[digits] = max(self.last_inbound.get(digits, 0.0), when)
        message = {"from": digits, "id": self._wamid(), "timestamp": str(int(when)), **message}
        value = {
            "messaging_product": "whatsapp",
            "metadata": self._metadata(),
            "contacts": [{"profile": {"name": "Test User"}, "wa_id": digits}],
            "messages": [message],
        }
        change = {"field": "messages", "value": value}
        return self.post_webhook({"object": "whatsapp_business_account", "entry": [self._entry([change])]})

    def post_webhook(self, payload: dict) -> int | None:
        """Sign and post `payload` to the callback now; the callback's HTTP status (None: no callback)."""
        if not self.callback_url:
            return None
        body = json.dumps(payload, ensure_ascii=False).encode()
        signature = "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        try:
            response = requests.post(
                self.callback_url,
                data=body,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                timeout=10,
            )
        except requests.RequestException:
            self.post_failures += 1
            return 599
        if response.status_code < 300:
            self.posted.append({"body": body, "signature": signature})
        else:
            self.post_failures += 1
        return response.status_code

    # --- behaviour -----------------------------------------------------------------------------
    def _wamid(self) -> str:
        raw = f"{self.phone_number_id}-{next(self._ids)}-{time.time_ns()}".encode()
        return "wamid." + base64.b64encode(raw).decode().rstrip("=")

    def _metadata(self) -> dict:
        return {"display_phone_number": self.display_number, "phone_number_id": self.phone_number_id}

    def _entry(self, changes: list) -> dict:
        return {"id": self.waba_id, "time": int(time.time()), "changes": changes}

    def _phone_number(self) -> dict:
        return {
            "id": self.phone_number_id,
            "display_phone_number": self.display_number,
            "verified_name": "Test Brand",
            "quality_rating": "GREEN",
            "code_verification_status": "VERIFIED",
        }

    def _list_templates(self, version: str, query: dict) -> dict:
        with self._lock:
            rows = sorted(self.templates.values(), key=lambda t: int(t["id"]))
        for name in ("status", "name", "category", "language"):
            if query.get(name):
                rows = [t for t in rows if t[name] == query[name]]
        limit = min(int(query.get("limit") or 25), self.page_size)
        start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
        page = rows[start : start + limit]
        end = start + len(page)
        paging: dict = {"cursors": {"before": _cursor(start), "after": _cursor(max(end, start))}}
        if end < len(rows):
            following = {**query, "after": _cursor(end)}
            paging["next"] = f"{self.url}/{version}/{self.waba_id}/message_templates?{urlencode(following)}"
        return {"data": page, "paging": paging}

    def _create_template(self, body: dict) -> tuple[int, dict]:
        name, language, category = body.get("name"), body.get("language"), body.get("category")
        components = body.get("components")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
            return 400, _error(100, "Invalid parameter", "name must be lowercase letters, digits and _")
        if not language or category not in ("MARKETING", "UTILITY", "AUTHENTICATION"):
            return 400, _error(100, "Invalid parameter", "language and a valid category are required")
        if not isinstance(components, list) or [c.get("type") for c in components].count("BODY") != 1:
            return 400, _error(100, "Invalid parameter", "a template needs exactly one BODY component")
        if refusal := self._media_header_refusal(components):
            return refusal
        with self._lock:
            if any(t["name"] == name and t["language"] == language for t in self.templates.values()):
                return 400, _error(
                    100, "Invalid parameter", f"Content in this language already exists for {name}", subcode=2388024
                )
        template_id = self.add_template(
            name,
            language=language,
            category=category,
            components=components,
            status="PENDING",
            parameter_format=body.get("parameter_format") or "POSITIONAL",
        )
        return 200, {"id": template_id, "status": "PENDING", "category": category}

    def _delete_template(self, query: dict) -> tuple[int, dict]:
        with self._lock:
            doomed = [
                tid
                for tid, t in self.templates.items()
                if t["name"] == query.get("name") and (not query.get("hsm_id") or tid == query["hsm_id"])
            ]
            for tid in doomed:
                del self.templates[tid]
        if not doomed:
            return 400, _error(100, "Invalid parameter", "Message template not found", subcode=2593002)
        return 200, {"success": True}

    def _send(self, body: dict) -> tuple[int, dict, str | None]:
        """(HTTP status, answer, wamid accepted or None)."""
        if body.get("messaging_product") != "whatsapp":
            return 400, _error(100, "Invalid parameter", "The parameter messaging_product is required."), None
        to = str(body.get("to", "")).lstrip("+")
        if not to.isdigit() or not 8 <= len(to) <= 15:
            return 400, _error(100, "Invalid parameter", f"'{to}' is not a valid WhatsApp recipient"), None
        if sync := SYNC_FAILURES.get(to[-4:]):
            code, message, details, transient = sync
            return 400, _error(code, message, details, transient=transient), None
        kind = body.get("type", "text")
        failure = ASYNC_FAILURES.get(to[-4:])
        if kind == "template":
            refusal = self._check_template(body.get("template") or {})
            if refusal:
                return refusal + (None,)
        elif kind == "text":
            if not str((body.get("text") or {}).get("body") or "").strip():
                return 400, _error(131008, "Required parameter is missing", "text.body is required"), None
            if failure is None and time.time() - self.last_inbound.get(to, 0.0) > WINDOW:
                failure = ASYNC_FAILURES["0047"]  # outside the 24-hour window: refused later, not now
        else:
            return 400, _error(131051, "Unsupported message type", f"type {kind!r} is not served by the fake"), None
        wamid = self._wamid()
        key = body.get("biz_opaque_callback_data") or ""
        with self._lock:
            self.accepted[wamid] = {
                "to": to,
                "key": key,
                "type": kind,
                "template": body.get("template"),
                "text": (body.get("text") or {}).get("body"),
                "at": time.time(),
            }
        self._schedule(wamid, to, key, failure)
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": to}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }
        return 200, answer, wamid

    def _check_template(self, sent: dict) -> tuple[int, dict] | None:
        name, language = sent.get("name"), (sent.get("language") or {}).get("code")
        with self._lock:
            found = next((t for t in self.templates.values() if t["name"] == name and t["language"] == language), None)
        if found is None or found["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
            return 404, _error(
                132001,
                "Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        if found["status"] == "PAUSED":
            return 400, _error(132015, "Template is Paused", f"template {name} is paused")
        if found["status"] == "DISABLED":
            return 400, _error(132016, "Template is Disabled", f"template {name} is disabled")
        expected = _expected_parameters(found["components"])
        given: dict[str, list] = {}
        for component in sent.get("components") or []:
            kind = str(component.get("type", "")).lower()
            where = f"button:{component.get('sub_type')}:{component.get('index')}" if kind == "button" else kind
            given.setdefault(where, []).extend(component.get("parameters") or [])
        for where in sorted(set(expected) | {w for w in given if not w.startswith("button:quick_reply")}):
            want, got = expected.get(where, []), given.get(where, [])
            if len(want) != len(got):
                return 400, _error(
                    132000,
                    "Number of parameters does not match the expected number of params",
                    f"{where.split(':')[0]}: number of localizable_params ({len(got)}) does not match the "
                    f"expected number of params ({len(want)})",
                )
            if found["parameter_format"] == "NAMED" and where in ("header", "body"):
                names = [str(p.get("parameter_name", "")) for p in got]
                if sorted(names) != sorted(want):
                    return 400, _error(132000, "Parameter name mismatch", f"{where}: expected names {want}")
        return None

    def _schedule(self, wamid: str, to: str, key: str, failure) -> None:
        if to.endswith(SILENT):
            return
        now = int(time.time())
        base = {"id": wamid, "recipient_id": to}
        if key:
            base["biz_opaque_callback_data"] = key
        if failure:
            code, title, details = failure
            error = {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
            self._put({**base, "status": "failed", "timestamp": str(now), "errors": [error]})
            return
        pricing = {"billable": True, "pricing_model": "PMP", "category": "marketing"}
        for offset, name in enumerate(["sent", "delivered"] + (["read"] if self.send_read else [])):
            status = {**base, "status": name, "timestamp": str(now + offset)}
            if name != "read":
                status["pricing"] = pricing
            self._put(status)

    def _put(self, status: dict) -> None:
        with self._lock:
            self._outstanding += 1
        self._queue.put(status)

    def _post_statuses(self) -> None:
        fresh: list[dict] = []  # taken from the queue, not posted yet
        retry: list[dict] = []  # posted once and refused by the callback: posted again as they were
        while self._running:
            try:
                fresh.append(self._queue.get(timeout=0.03))
                while True:
                    fresh.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            if self.hold_statuses or not (fresh or retry):
                continue
            if not self.callback_url:
                with self._lock:
                    self._outstanding -= len(fresh) + len(retry)
                fresh, retry = [], []
                continue
            batch = fresh + retry
            if self.repeat and fresh:  # Meta may deliver a status more than once
                batch += [dict(s) for s in fresh]
                with self._lock:
                    self._outstanding += len(fresh)
            if self.shuffle:
                self._random.shuffle(batch)
            fresh, retry = [], []
            for start in range(0, len(batch), self.status_batch):
                chunk = batch[start : start + self.status_batch]
                # two statuses a change, two changes an entry: one POST holds several of each
                changes = [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": self._metadata(),
                            "statuses": chunk[i : i + 2],
                        },
                    }
                    for i in range(0, len(chunk), 2)
                ]
                entries = [self._entry(changes[i : i + 2]) for i in range(0, len(changes), 2)]
                code = self.post_webhook({"object": "whatsapp_business_account", "entry": entries})
                if code is None or code >= 300:
                    retry += chunk  # Meta retries a delivery that was not taken
                else:
                    with self._lock:
                        self._outstanding -= len(chunk)
            if retry:
                time.sleep(0.1)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str):
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": raw})
                if (upload := fake._upload_route(method, url.path, query, self.headers, raw)) is not None:
                    if upload == CUT:  # the connection drops mid-upload: no answer at all
                        self.close_connection = True
                        return None
                    return self._reply(*upload)
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if token != fake.access_token and token not in fake.limited_tokens:
                    return self._reply(
                        401,
                        _error(
                            190, "Invalid OAuth access token - Cannot parse access token", "", kind="OAuthException"
                        ),
                    )
                parts = url.path.strip("/").split("/")
                if not parts or not re.fullmatch(r"v\d+\.\d+", parts[0]):
                    return self._reply(400, _error(2500, "Unknown path components", url.path))
                version, parts = parts[0], parts[1:]
                if token in fake.limited_tokens:
                    return self._reply(
                        403,
                        _error(10, "Application does not have permission for this action", "", kind="OAuthException"),
                    )
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    return self._reply(400, _error(100, "Invalid parameter", "the body is not JSON"))
                with fake._lock:
                    fake.in_flight += 1
                try:
                    if fake.response_delay:
                        time.sleep(fake.response_delay)
                    answer = fake._dispatch(method, version, parts, query, body if isinstance(body, dict) else {})
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                self._reply(*answer)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_DELETE(self):
                self._route("DELETE")

        return Handler

    def _dispatch(self, method: str, version: str, parts: list[str], query: dict, body: dict) -> tuple[int, dict]:
        route = (method, *parts)
        if route == ("GET", self.phone_number_id):
            return 200, self._phone_number()
        if route == ("GET", self.waba_id, "phone_numbers"):
            return 200, {"data": [self._phone_number()], "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}}
        if route == ("GET", self.waba_id, "message_templates"):
            return 200, self._list_templates(version, query)
        if route == ("POST", self.waba_id, "message_templates"):
            return self._create_template(body)
        if route == ("DELETE", self.waba_id, "message_templates"):
            return self._delete_template(query)
        if route == ("POST", self.phone_number_id, "messages"):
            code, answer, wamid = self._send(body)
            if wamid and str(body.get("to", "")).endswith(ACCEPT_THEN_500):
                return 500, _error(131000, "Something went wrong", "", transient=True)
            return code, answer
        if method == "GET" and len(parts) == 1 and parts[0] in self.templates:
            return 200, self.templates[parts[0]]
        target = parts[0] if parts else ""
        return 400, _error(
            100,
            f"Unsupported {method.lower()} request. Object with ID '{target}' does not exist, cannot be loaded due "
            "to missing permissions, or does not support this operation.",
            "",
            subcode=33,
            kind="GraphMethodException",
        )

    # --- Resumable Upload API (template samples) ------------------------------------------------
    app_id = "584544743160774"  # the Meta app uploads go to: POST /{v}/{app_id}/uploads
    cut_upload_after: int | None = None  # keep this many bytes of the next upload, then drop the connection

    @cached_property
    def uploads(self) -> dict[str, dict]:
        """Upload sessions by id (`upload:…?sig=…`): file_name, file_length, file_type, data, handle."""
        return {}

    def uploaded(self, handle: str) -> dict | None:
        """The finished upload `handle` was issued for (None: not a handle this fake gave)."""
        with self._lock:
            return next((u for u in self.uploads.values() if handle and u["handle"] == handle), None)

    def _upload_route(self, method: str, path: str, query: dict, headers, raw: bytes):
        """The upload endpoints, ahead of the JSON routes (their token and body differ): an answer,
        CUT (drop the connection) or None (not an upload path)."""
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not re.fullmatch(r"v\d+\.\d+", parts[0]):
            return None
        if method == "POST" and len(parts) == 3 and parts[2] == "uploads":
            return self._upload_start(parts[1], _bearer(headers, "Bearer") or query.get("access_token", ""), query)
        rest = "/".join(parts[1:])
        if rest.startswith("upload:") and method in ("GET", "POST"):
            # step 2 takes the token only in the header (OAuth); the GET also as access_token
            token = _bearer(headers, "OAuth") or (query.get("access_token", "") if method == "GET" else "")
            return self._upload_session(method, f"{rest}?sig={query.get('sig', '')}", token, headers, raw)
        return None

    def _upload_refused_token(self, token: str) -> tuple[int, dict] | None:
        if token in self.limited_tokens:
            return 403, _error(10, "Application does not have permission for this action", "", kind="OAuthException")
        if token != self.access_token:
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token", "", kind="OAuthException")
        return None

    def _upload_start(self, app_id: str, token: str, query: dict) -> tuple[int, dict]:
        if refused := self._upload_refused_token(token):
            return refused
        if app_id != self.app_id:
            return 400, _error(
                100,
                f"Unsupported post request. Object with ID '{app_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation.",
                subcode=33,
                kind="GraphMethodException",
            )
        length, file_type, name = query.get("file_length", ""), query.get("file_type", ""), query.get("file_name", "")
        if not length.isdigit() or int(length) <= 0:
            return 400, _error(100, "Invalid parameter", "file_length must be the file's size in bytes")
        if file_type not in UPLOAD_TYPES:
            return 400, _error(
                100, "Invalid parameter", f"file_type {file_type!r} is not one of {', '.join(UPLOAD_TYPES)}"
            )
        if not name:
            return 400, _error(100, "Invalid parameter", "file_name is required")
        described = f"1:attachment:{uuid.uuid4()}?file_length={length}&file_type={quote(file_type, safe='')}"
        session_id = f"upload:{base64.b64encode(described.encode()).decode()}?sig=AR{secrets.token_urlsafe(12)}"
        with self._lock:
            self.uploads[session_id] = {
                "file_name": name,
                "file_length": int(length),
                "file_type": file_type,
                "data": bytearray(),
                "handle": "",
            }
        return 200, {"id": session_id}

    def _upload_session(self, method: str, session_id: str, token: str, headers, raw: bytes):
        if refused := self._upload_refused_token(token):
            return refused
        with self._lock:
            upload = self.uploads.get(session_id)
            if upload is None:
                return 400, _error(100, "Invalid parameter", "HMAC check failed: not an upload session of this app")
            if method == "GET":
                return 200, {"id": session_id, "file_offset": len(upload["data"])}
            offset = str(headers.get("file_offset") or "")
            if not offset.isdigit():
                return 400, _error(100, "Invalid parameter", "the file_offset header is required")
            if int(offset) != len(upload["data"]):
                return 400, _error(
                    100,
                    "Invalid parameter",
                    f"file_offset {offset} does not match the {len(upload['data'])} bytes held",
                )
            if int(offset) + len(raw) > upload["file_length"]:
                return 400, _error(100, "Invalid parameter", "more bytes than the session's file_length")
            if self.cut_upload_after is not None:
                upload["data"] += raw[: self.cut_upload_after]
                self.cut_upload_after = None
                return CUT
            upload["data"] += raw
            if len(upload["data"]) < upload["file_length"]:
                return 200, {"id": session_id, "file_offset": len(upload["data"])}
            if not upload["handle"]:
                kind = base64.b64encode(upload["file_type"].encode()).decode()
                upload["handle"] = f"4::{kind}:AR{secrets.token_urlsafe(18)}"
            return 200, {"h": upload["handle"]}

    def _media_header_refusal(self, components: list) -> tuple[int, dict] | None:
        """Meta creates a media header only with the handle of a file uploaded to the app (a link or
        any other string: 100 Invalid parameter), and of the header's kind."""
        for component in components:
            if not isinstance(component, dict) or str(component.get("type", "")).upper() != "HEADER":
                continue
            header_format = str(component.get("format", "TEXT")).upper()
            if header_format not in MEDIA_TYPES:
                continue
            example = component.get("example") if isinstance(component.get("example"), dict) else {}
            handles = example.get("header_handle")
            handle = handles[0] if isinstance(handles, list) and len(handles) == 1 else None
            upload = self.uploaded(handle) if isinstance(handle, str) else None
            if upload is None:
                return 400, _error(
                    100,
                    "Invalid parameter",
                    f"header_handle {handle!r} is not the handle of a file uploaded to the app",
                )
            if upload["file_type"] not in MEDIA_TYPES[header_format]:
                return 400, _error(
                    100, "Invalid parameter", f"a {header_format} header's sample cannot be {upload['file_type']}"
                )
        return None


def _expected_parameters(components: list) -> dict[str, list[str]]:
    """Placeholders the send must fill, per component, counted the fake's own way."""
    expected: dict[str, list[str]] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            fmt = str(component.get("format", "TEXT")).upper()
            if fmt == "TEXT":
                names = PLACEHOLDER.findall(str(component.get("text", "")))
                if names:
                    expected["header"] = names
            elif fmt in ("IMAGE", "VIDEO", "DOCUMENT"):
                expected["header"] = [fmt.lower()]
        elif kind == "BODY":
            names = PLACEHOLDER.findall(str(component.get("text", "")))
            if names:
                expected["body"] = names
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if button.get("type") == "URL" and PLACEHOLDER.search(str(button.get("url", ""))):
                    expected[f"button:url:{index}"] = ["url"]
    return expected


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _error(
    code: int,
    message: str,
    details: str = "",
    *,
    subcode: int | None = None,
    transient: bool = False,
    kind: str = "OAuthException",
) -> dict:
    error: dict = {
        "message": f"(#{code}) {message}",
        "type": kind,
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


# --- Resumable Upload API and the samples it takes -------------------------------------------------
CUT = "cut"  # an upload answer: drop the connection without answering
UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
MEDIA_TYPES = {
    "IMAGE": ("image/jpeg", "image/jpg", "image/png"),
    "VIDEO": ("video/mp4",),
    "DOCUMENT": ("application/pdf",),
}


def _bearer(headers, scheme: str) -> str:
    """The token of an `Authorization: <scheme> <token>` header, "" for none or another scheme."""
    given, _space, token = (headers.get("Authorization") or "").partition(" ")
    return token if given == scheme else ""


class SampleServer(_QuickServer):
    """The public host of media-header samples in tests, over http on 127.0.0.1: `add()` a file and
    get its link. `fetched` lists the paths asked for; `redirects` sends a path elsewhere (302);
    `hide_length` answers without Content-Length (the body ends when the connection closes)."""

    def __init__(self):
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}
        self.fetched: list[str] = []
        self.hide_length = False
        self._serve(self._handler())

    def add(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.files[f"/{name}"] = (data, content_type)
        return f"{self.url}/{name}"

    def _handler(self):
        samples = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                samples.fetched.append(self.path)
                if target := samples.redirects.get(self.path):
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, content_type = samples.files.get(self.path, (b"not found", "text/plain"))
                self.send_response(200 if self.path in samples.files else 404)
                self.send_header("Content-Type", content_type)
                if not samples.hide_length:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
