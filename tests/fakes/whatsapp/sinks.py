"""A webhook receiver for tests (our side of a callback)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from tests.fakes.whatsapp.common import (
    _QuickServer,
)


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
