"""Many Graph POSTs at once from one thread (the send path, providers.md §6.1): libcurl's multi
interface through pycurl does the HTTP work in C, with up to `concurrency` requests in flight
over keep-alive connections kept between batches (one multi handle per sender, so per connector
instance). requests with a thread pool cost ~1.4 ms of CPU a message, most of it in Python and
in GIL hand-offs between the threads.

Each request ends in Graph's answer (a dict), a GraphError or a GraphUnreachable, with the same
meaning as GraphClient's (client.py): never connected (refused, DNS, connect timeout, nothing of
the request composed) is maybe_sent=False; anything once the request may have been written
(a timeout waiting for the answer, the connection dropped) is maybe_sent=True.

libcurl resends a request by itself when a reused connection dies before any answer byte ("retrying
a fresh connect"), which for Meta (no idempotency key) could send a message twice. The body is
therefore given through a read callback without a seek callback: once libcurl has read the body it
cannot rewind it, so that retry fails (CURLE_SEND_FAIL_REWIND, maybe_sent=True) instead of sending
again. Before the body was read nothing can have been acted on, and the retry is harmless."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass

import pycurl
import requests

from providers.sessions import settled_session
from providers.whatsapp import client
from providers.whatsapp.client import GraphError, GraphUnreachable, graph_error

# errors of the connect phase: with nothing of the request composed (REQUEST_SIZE 0), it never left
CONNECT_PHASE = {
    pycurl.E_COULDNT_RESOLVE_PROXY,
    pycurl.E_COULDNT_RESOLVE_HOST,
    pycurl.E_COULDNT_CONNECT,
    pycurl.E_OPERATION_TIMEDOUT,
    pycurl.E_SSL_CONNECT_ERROR,
    pycurl.E_PEER_FAILED_VERIFICATION,
    getattr(pycurl, "E_SSL_CACERT_BADFILE", 77),
    getattr(pycurl, "E_SSL_CERTPROBLEM", 58),
    getattr(pycurl, "E_PROXY", 97),
}


_encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode  # one encoder, not one a request


@dataclass(frozen=True)
class Post:
    path: str  # under the Graph root and version, as GraphClient.url takes it
    body: dict


class GraphSender:
    """POSTs to Graph, many in flight from the calling thread. Not shared between threads (a lock
    makes a second caller wait); after a fork, use a new one (connector instances are per process)."""

    def __init__(self, *, base_url: str, version: str, access_token: str, concurrency: int = 32):
        self.root = base_url.rstrip("/")
        self.version = version.strip("/")
        self.concurrency = max(1, concurrency)
        self._headers = [
            f"Authorization: Bearer {access_token}",
            "Accept: application/json",
            "Content-Type: application/json",
            "User-Agent: consent-panel",
            "Expect:",  # never wait for 100-continue
        ]
        session = settled_session(self.root)  # HTTPS_PROXY / NO_PROXY / REQUESTS_CA_BUNDLE, as requests reads them
        self._proxy = requests.utils.select_proxy(self.root + "/", session.proxies) or ""
        self._verify = session.verify
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_MAXCONNECTS, self.concurrency)
        self._free: list[pycurl.Curl] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the token
        return f"<GraphSender {self.root}/{self.version}>"

    def close(self) -> None:
        for handle in self._free:
            handle.close()
        self._free = []
        self._multi.close()

    def post_each(
        self, posts: list[Post], *, deadline: float | None = None
    ) -> list[dict | GraphError | GraphUnreachable]:
        """Every post its own request; an outcome for each, in order. None is started after
        `deadline` (time.monotonic()): those are GraphUnreachable with maybe_sent=False."""
        with self._lock:
            return self._run(posts, deadline)

    # --- the multi loop -------------------------------------------------------------------------
    def _run(self, posts: list[Post], deadline: float | None) -> list:
        outcomes: list = [None] * len(posts)
        waiting = list(range(len(posts) - 1, -1, -1))  # popped from the end: in order
        running: dict[pycurl.Curl, tuple[int, list[bytes]]] = {}
        multi = self._multi
        while waiting or running:
            if waiting and deadline is not None and time.monotonic() > deadline:
                for index in waiting:
                    outcomes[index] = GraphUnreachable("not sent: the batch ran out of time", maybe_sent=False)
                waiting = []
            while waiting and len(running) < self.concurrency:
                index = waiting.pop()
                handle, chunks = self._prepared(posts[index])
                running[handle] = (index, chunks)
                multi.add_handle(handle)
            status, _active = multi.perform()
            while status == pycurl.E_CALL_MULTI_PERFORM:
                status, _active = multi.perform()
            finished = 0
            while True:
                left, done, failed = multi.info_read()
                for handle in done:
                    index, chunks = running.pop(handle)
                    outcomes[index] = _answer(handle, chunks)
                    self._release(handle)
                for handle, errno, message in failed:
                    index, _chunks = running.pop(handle)
                    outcomes[index] = _unreachable(handle, errno, message)
                    self._release(handle)
                finished += len(done) + len(failed)
                if not left:
                    break
            if running and not finished:
                wait = multi.timeout()  # ms until libcurl's next timer; -1: none set
                if wait != 0:
                    multi.select(min(wait, 1000) / 1000 if wait > 0 else 0.1)
        return outcomes

    def _prepared(self, post: Post) -> tuple[pycurl.Curl, list[bytes]]:
        handle = self._free.pop() if self._free else self._new_handle()
        data = _encode(post.body).encode()
        chunks: list[bytes] = []
        handle.setopt(pycurl.URL, f"{self.root}/{self.version}/{post.path.lstrip('/')}")
        handle.setopt(pycurl.POSTFIELDSIZE, len(data))
        handle.setopt(pycurl.READFUNCTION, io.BytesIO(data).read)  # no seek: see the module's docstring
        handle.setopt(pycurl.WRITEFUNCTION, chunks.append)
        # read at call time, as GraphClient does (tests shorten them); a send's whole answer must come
        # within READ_TIMEOUT (a small POST: requests' wait for the answer, in effect)
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, int(min(client.CONNECT_TIMEOUT, client.READ_TIMEOUT) * 1000))
        handle.setopt(pycurl.TIMEOUT_MS, int(client.READ_TIMEOUT * 1000))
        return handle, chunks

    def _new_handle(self) -> pycurl.Curl:
        handle = pycurl.Curl()
        handle.setopt(pycurl.POST, 1)
        handle.setopt(pycurl.HTTPHEADER, self._headers)
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.TCP_NODELAY, 1)
        handle.setopt(pycurl.FOLLOWLOCATION, 0)
        handle.setopt(pycurl.PROXY, self._proxy)  # "" is no proxy: libcurl reads no environment of its own
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        if self._verify is False:
            handle.setopt(pycurl.SSL_VERIFYPEER, 0)
            handle.setopt(pycurl.SSL_VERIFYHOST, 0)
        else:
            bundle = requests.utils.DEFAULT_CA_BUNDLE_PATH if self._verify is True else self._verify
            handle.setopt(pycurl.CAPATH if _is_dir(bundle) else pycurl.CAINFO, bundle)
        return handle

    def _release(self, handle: pycurl.Curl) -> None:
        self._multi.remove_handle(handle)
        handle.setopt(pycurl.READFUNCTION, _nothing)  # drop the references to this request's buffers
        handle.setopt(pycurl.WRITEFUNCTION, _ignore)
        self._free.append(handle)


def _nothing(_size: int) -> bytes:
    return b""


def _ignore(_data: bytes) -> None:
    return None


def _is_dir(path: str) -> bool:
    import os

    return os.path.isdir(path)


def _answer(handle: pycurl.Curl, chunks: list[bytes]) -> dict | GraphError:
    status = handle.getinfo(pycurl.RESPONSE_CODE)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if status < 300 and isinstance(body, dict):
        return body
    return graph_error(status, raw.decode("utf-8", "replace"), body)


def _unreachable(handle: pycurl.Curl, errno: int, message: str) -> GraphUnreachable:
    composed = handle.getinfo(pycurl.REQUEST_SIZE) > 0
    if errno in CONNECT_PHASE and not composed:
        if errno == pycurl.E_OPERATION_TIMEDOUT:
            return GraphUnreachable("could not connect to Meta's Graph API in time", maybe_sent=False)
        refused = errno == pycurl.E_COULDNT_CONNECT
        return GraphUnreachable(
            "could not reach Meta's Graph API" + (" (connection refused)" if refused else ""), maybe_sent=False
        )
    if errno == pycurl.E_OPERATION_TIMEDOUT:
        return GraphUnreachable("Meta's Graph API did not answer in time", maybe_sent=True)
    return GraphUnreachable(f"could not reach Meta's Graph API ({message or errno})", maybe_sent=True)
