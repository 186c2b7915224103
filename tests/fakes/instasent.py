"""A fake Instasent Transactional API over real HTTP on 127.0.0.1 (providers.md §4.6): bearer
auth, POST /sms/bulk of ≤100 with per-item errors, X-RateLimit-* headers and 429 with an empty
body, GET /organization/account, and one DLR POST per status to the callback URL configured for
the token (as in Instasent's dashboard), plus inbound messages on the same URL."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler

import requests

from tests.fakes.base import FakeServer

MAGIC = {"0001": "failed", "0002": "expired", "0003": "rejected"}


class FakeInstasent(FakeServer):
    path_prefix = "/transactional/v1"

    def __init__(self, *, token: str = "insta-token"):  # noqa: S107
        self.token = token
        self.callback_url = ""  # what the admin pastes into Instasent's dashboard
        self.accepted: dict[str, dict] = {}  # Instasent id -> message
        self.requests: list[dict] = []
        self.fail_next_with_429 = 0
        self._ids = iter(range(1, 10**9))
        self._lock = threading.Lock()
        self._serve(self._handler())
        self.posted = 0

    def recipients(self) -> Counter:
        return Counter(m["to"] for m in self.accepted.values())

    def reply(self, sender: str, text: str) -> int:
        """A recipient answers an SMS (two-way): Instasent posts it to the callback URL."""
        return requests.post(
            self.callback_url,
            json={
                "id": "in-1",
                "from": sender,
                "message": text,
                "status": "stop" if text.upper() == "STOP" else "received",
            },
            timeout=10,
        ).status_code

    def deliver_reports(self):
        """Post one DLR per status transition (sent, then the final one) for every accepted message."""
        for sms_id, message in list(self.accepted.items()):
            final = MAGIC.get(message["to"][-4:], "delivered")
            for status in ("sent", final):
                body = {
                    "id": sms_id,
                    "clientId": message["clientId"],
                    "status": status,
                    "code": 0 if status == "delivered" else 1,
                    "eventAt": "2026-11-23T10:15:00Z",
                }
                if requests.post(self.callback_url, json=body, timeout=10).status_code < 300:
                    self.posted += 1

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, body=None):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Limit", "1000")
                self.send_header("X-RateLimit-Remaining", "999")
                self.send_header("X-RateLimit-Reset", str(int(time.time()) + 1))
                self.end_headers()
                self.wfile.write(data)

            def _auth(self):
                if self.headers.get("Authorization") == f"Bearer {fake.token}":
                    return True
                self._reply(401, {"error": "Unauthorized"})
                return False

            def do_GET(self):
                if self._auth():
                    self._reply(200, {"balance": 10.5} if self.path.endswith("/organization/account") else None)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                if not self._auth():
                    return
                if fake.fail_next_with_429 > 0:
                    fake.fail_next_with_429 -= 1
                    return self._reply(429)  # empty body, as Instasent does
                if not self.path.endswith("/sms/bulk"):
                    return self._reply(404, {"error": "not found"})
                items = json.loads(raw)
                if not isinstance(items, list) or len(items) > 100:
                    return self._reply(400, {"error": "a bulk holds 1 to 100 messages"})
                entities, errors = [], []
                for item in items:
                    to = str(item.get("to", ""))
                    if not to.startswith("+") or not to[1:].isdigit() or len(str(item.get("from", ""))) > 11:
                        errors.append({"clientId": item.get("clientId"), "fields": {"to": ["invalid"]}})
                        continue
                    with fake._lock:
                        sms_id = f"ins-{next(fake._ids)}"
                        fake.accepted[sms_id] = {**item}
                    entities.append({"id": sms_id, "clientId": item.get("clientId"), "status": "enqueued", "chunks": 1})
                self._reply(201, {"entities": entities, "errors": errors})

        return Handler
