"""The fake Cloud API's server: token check, phone numbers, sends (checked against the stored
template and the 24-hour window), signed status webhooks in batches, inbound messages, books."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import queue
import random
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import requests

from tests.fakes.whatsapp.common import (
    ACCEPT_THEN_500,
    ACCEPT_THEN_CUT,
    ASYNC_FAILURES,
    CUT,
    SILENT,
    SYNC_FAILURES,
    WINDOW,
    _error,
    _QuickServer,
)
from tests.fakes.whatsapp.templates import TemplatesMixin
from tests.fakes.whatsapp.uploads import UploadsMixin


class FakeWhatsApp(TemplatesMixin, UploadsMixin, _QuickServer):
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
        self.most_in_flight = 0  # the most requests in flight at once so far
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
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    if fake.response_delay:
                        time.sleep(fake.response_delay)
                    answer = fake._dispatch(method, version, parts, query, body if isinstance(body, dict) else {})
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                if answer == CUT:  # recorded, then the connection drops before any answer byte
                    self.close_connection = True
                    return None
                self._reply(*answer)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_DELETE(self):
                self._route("DELETE")

        return Handler

    def _dispatch(self, method: str, version: str, parts: list[str], query: dict, body: dict) -> tuple[int, dict] | str:
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
            if wamid and str(body.get("to", "")).endswith(ACCEPT_THEN_CUT):
                return CUT
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
