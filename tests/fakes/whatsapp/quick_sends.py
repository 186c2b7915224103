"""A light stand-in for the fake Cloud API's send endpoint, for benchmarks (bench/send_whatsapp.py):
POST /{v}/{phone-number-id}/messages over keep-alive HTTP/1.1 from an asyncio Protocol in its own
process, so thousands of sends a second cost the stand-in ~tens of µs each instead of the ~420 µs of
http.server's thread per connection (FakeWhatsApp, which tests use, keeps every other behaviour).

What it checks is FakeWhatsApp's for a send: the Bearer token (190), messaging_product and the
recipient (100), the synchronous magic recipients (130429, 131056, …), and a template send against
the templates it was given (132001/132015/132016/132000, TemplatesMixin's own check). Free text is
not served (131051). It keeps the same books (`recipients()`, `keys()`: what it accepted per number
and per our message key) and posts no status webhook.

    sends = QuickSends(access_token=…, phone_number_id=…, templates=fake.templates).start()
    … sends.url …
    books = sends.books()  # [(digits, key, at), …]
    sends.stop()
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import threading
import time
from collections import Counter

from tests.fakes.whatsapp.common import SYNC_FAILURES, _error
from tests.fakes.whatsapp.templates import TemplatesMixin

REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}


class _Books(TemplatesMixin):
    """The send endpoint's rules and books, in the serving process."""

    def __init__(self, *, access_token: str, phone_number_id: str, templates: dict):
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.templates = templates
        self._lock = threading.Lock()  # TemplatesMixin takes it; one thread here
        self.accepted: list[tuple[str, str, float]] = []
        self._ids = 0

    def answer(self, method: bytes, target: bytes, token: str, raw: bytes) -> tuple[int, dict]:
        if token != self.access_token:
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token", "")
        parts = target.decode("latin-1").strip("/").split("/")
        if method != b"POST" or len(parts) != 3 or parts[1:] != [self.phone_number_id, "messages"]:
            return 400, _error(100, "Unsupported request: only sends are served by this stand-in", "", subcode=33)
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, _error(100, "Invalid parameter", "the body is not JSON")
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return 400, _error(100, "Invalid parameter", "The parameter messaging_product is required.")
        to = str(body.get("to", "")).lstrip("+")
        if not to.isdigit() or not 8 <= len(to) <= 15:
            return 400, _error(100, "Invalid parameter", f"'{to}' is not a valid WhatsApp recipient")
        if sync := SYNC_FAILURES.get(to[-4:]):
            code, message, details, transient = sync
            return 400, _error(code, message, details, transient=transient)
        if body.get("type", "text") != "template":
            return 400, _error(131051, "Unsupported message type", "only templates are served by this stand-in")
        if refusal := self._check_template(body.get("template") or {}):
            return refusal
        self._ids += 1
        wamid = f"wamid.Q{self.phone_number_id}{self._ids:012d}"
        self.accepted.append((to, str(body.get("biz_opaque_callback_data") or ""), time.time()))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": to}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }


class _Connection(asyncio.Protocol):
    def __init__(self, books: _Books):
        self.books = books
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].split(b"\r\n")
            length, token = 0, ""
            for line in head[1:]:
                name, _colon, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"authorization":
                    token = value.strip().decode("latin-1").removeprefix("Bearer ")
            if len(self.buffer) < end + 4 + length:
                return
            raw = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, target, _version = head[0].split(b" ", 2)
            status, answer = self.books.answer(method, target, token, raw)
            data = json.dumps(answer).encode()
            self.transport.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (status, REASONS.get(status, b"Error"), len(data), data)
            )


def _serve(listener: socket.socket, control, options: dict) -> None:
    books = _Books(**options)
    loop = asyncio.new_event_loop()

    def command() -> None:
        asked = control.recv()
        if asked == "books":
            control.send(books.accepted)
        elif asked == "count":
            control.send(len(books.accepted))
        elif asked == "clear":
            books.accepted = []
            control.send(True)
        else:
            loop.stop()

    async def start():
        return await loop.create_server(lambda: _Connection(books), sock=listener, backlog=512)

    server = loop.run_until_complete(start())
    loop.add_reader(control.fileno(), command)
    control.send("ready")
    loop.run_forever()
    server.close()


class QuickSends:
    def __init__(self, *, access_token: str, phone_number_id: str, templates: dict):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(512)
        self._options = {
            "access_token": access_token,
            "phone_number_id": phone_number_id,
            "templates": dict(templates),
        }
        self._control, theirs = multiprocessing.Pipe()
        context = multiprocessing.get_context("fork")  # the listening socket goes with it
        self.process = context.Process(target=_serve, args=(self.listener, theirs, self._options), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> QuickSends:
        self.process.start()
        if not self._control.poll(30) or self._control.recv() != "ready":
            raise RuntimeError("the send stand-in did not start")
        return self

    def books(self) -> list[tuple[str, str, float]]:
        """What was accepted: (digits, our message key, when), in order."""
        self._control.send("books")
        return self._control.recv()

    def count(self) -> int:
        self._control.send("count")
        return self._control.recv()

    def recipients(self) -> Counter:
        return Counter(to for to, _key, _at in self.books())

    def keys(self) -> Counter:
        return Counter(key for _to, key, _at in self.books())

    def clear(self) -> None:
        self._control.send("clear")
        self._control.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self._control.send("stop")
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.listener.close()
