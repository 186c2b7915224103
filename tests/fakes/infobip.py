"""A fake Infobip SMS API over real HTTP on 127.0.0.1 (providers.md §1.8): `App` key auth, POST
/sms/3/messages with duplicate-messageId refusal (status 23), delivery reports POSTed to each
message's webhook URL in buckets of up to 100 and served once by GET /sms/3/reports, and
magic recipients. It records every accepted message, so tests count duplicates and losses by the
fake's own books."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler

import requests

from tests.fakes.base import FakeServer

STATUSES = {
    "accepted": {
        "groupId": 1,
        "groupName": "PENDING",
        "id": 26,
        "name": "PENDING_ACCEPTED",
        "description": "Message sent to next instance",
    },
    "delivered": {
        "groupId": 3,
        "groupName": "DELIVERED",
        "id": 5,
        "name": "DELIVERED_TO_HANDSET",
        "description": "Message delivered to handset",
    },
    "undelivered": {
        "groupId": 2,
        "groupName": "UNDELIVERABLE",
        "id": 9,
        "name": "UNDELIVERABLE_NOT_DELIVERED",
        "description": "Message sent not delivered",
    },
    "expired": {
        "groupId": 4,
        "groupName": "EXPIRED",
        "id": 15,
        "name": "EXPIRED_EXPIRED",
        "description": "Message expired",
    },
    "rejected": {
        "groupId": 5,
        "groupName": "REJECTED",
        "id": 52,
        "name": "REJECTED_DESTINATION",
        "description": "Message rejected by destination",
    },
    "iys": {
        "groupId": 5,
        "groupName": "REJECTED",
        "id": 10,
        "name": "REJECTED_DND",
        "description": "Rejected: no IYS consent for the recipient",
    },
    "duplicate": {
        "groupId": 5,
        "groupName": "REJECTED",
        "id": 23,
        "name": "REJECTED_DUPLICATE_MESSAGE_ID",
        "description": "Duplicate message id",
    },
}
NO_ERROR = {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error", "permanent": False}
UNKNOWN_SUBSCRIBER = {
    "groupId": 1,
    "groupName": "HANDSET_ERRORS",
    "id": 1,
    "name": "EC_UNKNOWN_SUBSCRIBER",
    "description": "Unknown subscriber",
    "permanent": True,
}
# magic recipients by the end of the number (providers.md §1.8)
MAGIC = {"0001": "undelivered", "0002": "expired", "0003": "rejected", "0016": "iys", "0009": "silent"}


class FakeInfobip(FakeServer):
    def __init__(self, *, api_key: str = "test-key", report_delay: float = 0.0):
        self.api_key = api_key
        self.report_delay = report_delay
        self.response_delay = 0.0  # seconds before answering a send (worker-kill tests)
        self.in_flight = 0  # send requests received and not answered yet
        self.fail_next_with_429 = 0
        self.fail_next_with_500_after_accepting = 0
        self.accepted: dict[str, dict] = {}  # messageId -> the message as sent
        self.duplicates = 0
        self.requests: list[dict] = []  # {"path", "headers", "body"}
        self.record_requests = True
        self.post_reports = True  # benchmarks switch delivery reports off (no web server to take them)
        # True: a report's sentAt is when the message was accepted and its doneAt that plus
        # report_delay (bench/journeys.py measures from them); False: fixed example times
        self.real_times = False
        self.pull_reports: list[dict] = []
        self.dlr_posted = 0
        self.dlr_failures = 0
        self._unposted = 0  # reports queued and not yet taken (2xx) by the webhook
        self._lock = threading.Lock()
        self._dlr_queue: queue.Queue = queue.Queue()
        self._serve(self._handler())
        self._poster = threading.Thread(target=self._post_reports, daemon=True)
        self._running = True

    def start(self):
        self._poster.start()
        return super().start()

    # --- books ------------------------------------------------------------------------
    def recipients(self) -> Counter:
        """How many distinct messages each number was sent (by the fake's own count)."""
        return Counter(m["to"] for m in self.accepted.values())

    def wait_for_reports(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._unposted == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the fake Infobip still had delivery reports to post")

    # --- behaviour ----------------------------------------------------------------------
    def _outcome(self, to: str) -> str:
        return MAGIC.get(to[-4:], "delivered")

    def _send(self, body: dict) -> tuple[int, dict]:
        answers = []
        for item in body.get("messages") or []:
            destinations = item.get("destinations") or []
            if not destinations or "content" not in item:
                return 400, _error("E400", "messages[].destinations and content are required")
            for destination in destinations:
                to, message_id = str(destination.get("to", "")), destination.get("messageId")
                if not to.isdigit():
                    return 400, _error("E400", f"destination {to!r} must be digits only")
                iys = ((item.get("options") or {}).get("regional") or {}).get("turkeyIys")
                if iys is not None and iys.get("recipientType") not in ("BIREYSEL", "TACIR"):
                    return 400, _error("E400", "turkeyIys.recipientType must be BIREYSEL or TACIR")
                with self._lock:
                    if message_id in self.accepted:
                        self.duplicates += 1
                        status = STATUSES["duplicate"]
                    else:
                        self.accepted[message_id] = {
                            "to": to,
                            "text": item["content"].get("text", ""),
                            "sender": item.get("sender"),
                            "iys": iys,
                            "language": item["content"].get("language"),
                            "at": time.time(),
                        }
                        status = STATUSES["accepted"]
                        self._schedule_report(item, to, message_id)
                answers.append(
                    {"messageId": message_id, "status": status, "destination": to, "details": {"messageCount": 1}}
                )
        return 200, {"bulkId": f"bulk-{time.time_ns()}", "messages": answers}

    def _schedule_report(self, item: dict, to: str, message_id: str) -> None:
        outcome = self._outcome(to)
        if outcome == "silent" or not self.post_reports:
            return
        status = STATUSES[outcome]
        report = {
            "bulkId": "",
            "messageId": message_id,
            "to": to,
            "sender": item.get("sender"),
            "sentAt": _stamp(time.time()) if self.real_times else "2026-11-23T10:00:00.000+0000",
            "doneAt": _stamp(time.time() + self.report_delay) if self.real_times else "2026-11-23T10:00:07.000+0000",
            "messageCount": 1,
            "price": {"pricePerMessage": 0.01, "currency": "EUR"},
            "status": status,
            "error": UNKNOWN_SUBSCRIBER if outcome == "undelivered" else NO_ERROR,
        }
        url = ((item.get("webhooks") or {}).get("delivery") or {}).get("url")
        if url:
            self._unposted += 1  # under the caller's lock, before it is queued: wait_for_reports never misses it
            self._dlr_queue.put((time.monotonic() + self.report_delay, url, report))
        else:
            self.pull_reports.append(report)

    def _post_reports(self):
        session = requests.Session()
        pending: list = []
        while self._running:
            try:
                pending.append(self._dlr_queue.get(timeout=0.05))
                while len(pending) < 500:
                    pending.append(self._dlr_queue.get_nowait())
            except queue.Empty:
                pass
            now = time.monotonic()
            due = [p for p in pending if p[0] <= now]
            pending = [p for p in pending if p[0] > now]
            by_url: dict[str, list] = {}
            for _, url, report in due:
                by_url.setdefault(url, []).append(report)
            for url, reports in by_url.items():
                for start in range(0, len(reports), 100):
                    bucket = reports[start : start + 100]
                    try:
                        response = session.post(url, json={"results": bucket}, timeout=10)
                        ok = response.status_code < 300
                    except requests.RequestException:
                        ok = False
                    if ok:
                        self.dlr_posted += len(bucket)
                        with self._lock:
                            self._unposted -= len(bucket)
                    else:  # Infobip retries; so do we, a little later
                        self.dlr_failures += 1
                        for report in bucket:
                            pending.append((time.monotonic() + 0.5, url, report))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code: int, body: dict | None = None, headers: dict | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"App {fake.api_key}":
                    return True
                self._reply(401, _error("E401", "Invalid login details"))
                return False

            def do_GET(self):
                if not self._authorised():
                    return
                if self.path.startswith("/sms/3/reports"):
                    with fake._lock:
                        results, fake.pull_reports = fake.pull_reports[:1000], fake.pull_reports[1000:]
                    return self._reply(200, {"results": results})
                self._reply(404, _error("E404", "not found"))

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if fake.record_requests:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                if not self._authorised():
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._reply(400, _error("E400", "Request cannot be processed."))
                if self.path == "/sms/1/preview":
                    return self._reply(200, {"originalText": body.get("text", ""), "previews": []})
                if self.path != "/sms/3/messages":
                    return self._reply(404, _error("E404", "not found"))
                if fake.fail_next_with_429 > 0:
                    fake.fail_next_with_429 -= 1
                    return self._reply(429, _error("E429", "Too many requests sent."), {"Retry-After": "1"})
                with fake._lock:
                    fake.in_flight += 1
                try:
                    if fake.response_delay:
                        time.sleep(fake.response_delay)
                    code, answer = fake._send(body)
                    if code == 200 and fake.fail_next_with_500_after_accepting > 0:
                        fake.fail_next_with_500_after_accepting -= 1
                        return self._reply(500, _error("E500", "Something went wrong."))
                    self._reply(code, answer)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        return Handler


def _stamp(at: float) -> str:
    """Infobip's time format, UTC: 2026-11-23T10:00:07.123+0000."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}+0000"


def _error(code: str, description: str) -> dict:
    return {"errorCode": code, "description": description, "action": "", "violations": [], "resources": []}
