"""What every fake provider shares: a real HTTP server on 127.0.0.1 (an ephemeral port) in a
thread of the test process, started and stopped by the test."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    # the socketserver default backlog of 5 refuses connections when a connector opens 16 at once
    request_queue_size = 128


class FakeServer:
    path_prefix = ""  # the API's base path, part of the URL a connector is given

    def _serve(self, handler_class) -> None:
        self.server = _Server(("127.0.0.1", 0), handler_class)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path_prefix}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        """A fake that posts webhooks from a thread (`_poster`, looping while `_running`) stops
        posting first and finishes a POST in flight: a test's database is flushed only after the
        panel stopped taking its webhooks."""
        self._running = False
        poster = getattr(self, "_poster", None)
        if poster is not None and poster.is_alive():
            poster.join(timeout=15)
        self.server.shutdown()
        self.server.server_close()
