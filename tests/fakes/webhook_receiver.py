"""A brand's webhook receiver over real HTTP on 127.0.0.1: it verifies every POST as a receiver
would, with the standardwebhooks library and the endpoint's secret, and records what it got."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.fakes.base import FakeServer


class WebhookReceiver(FakeServer):
    def __init__(self):
        self.secret = ""  # set once the endpoint is registered
        self.verified: list[dict] = []  # {"id", "payload", "headers"} of each POST that verified
        self.refused: list[str] = []  # why a POST did not verify
        self.fail_next: list[int] = []  # answer these statuses first, one per POST
        self.lock = threading.Lock()
        self._serve(self._handler())

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    code = receiver.fail_next.pop(0) if receiver.fail_next else 204
                    try:
                        payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                    except (WebhookVerificationError, ValueError) as exc:
                        receiver.refused.append(str(exc))
                        code = 400
                    else:
                        if code == 204:
                            receiver.verified.append(
                                {"id": self.headers["webhook-id"], "payload": payload, "headers": dict(self.headers)}
                            )
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def events(self, event_type: str | None = None) -> list[dict]:
        with self.lock:
            return [v["payload"] for v in self.verified if event_type in (None, v["payload"]["type"])]
