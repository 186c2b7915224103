"""The send path's client (providers/whatsapp/multi.py: libcurl's multi interface, many requests in
flight from one thread) against the fake Cloud API over real HTTP on 127.0.0.1: each message gets its
own outcome, and whether a failure may have sent it is decided as GraphClient decides (never connected:
not sent; once the request may have been written: maybe sent, never resent)."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from providers.base import DeliveryStatus, OutboundMessage, SendResult
from providers.whatsapp import client
from providers.whatsapp.client import GraphError, GraphUnreachable
from providers.whatsapp.errors import WhatsAppSendError
from providers.whatsapp.multi import GraphSender, Post
from tests.providers.whatsapp_support import make_connector


def hello(key: str, to: str, *, template: str = "hello") -> OutboundMessage:
    return OutboundMessage(
        key=key, to=to, text="", sender="", commercial=True, template_name=template, template_language="tr"
    )


@pytest.fixture
def meta(fake):
    handler = fake.server.RequestHandlerClass  # keep-alive, as Graph answers (and the benchmark runs it)
    handler.protocol_version = "HTTP/1.1"
    handler.disable_nagle_algorithm = True
    fake.add_template("hello", components=[{"type": "BODY", "text": "Merhaba"}])
    return fake


def test_many_in_flight_from_one_thread_each_accepted_once(meta):
    meta.response_delay = 0.02  # answers overlap: the requests are in flight together
    connector = make_connector(meta)
    messages = [hello(f"k-{i}", f"+9053{i:07d}7") for i in range(150)]  # no magic recipient ends in 7
    outcomes = connector.send_each(messages)
    assert all(isinstance(o, SendResult) and o.status == DeliveryStatus.QUEUED for o in outcomes)
    assert len({o.provider_id for o in outcomes}) == 150
    assert [o.key for o in outcomes] == [m.key for m in messages]  # in the order given
    assert meta.keys() == {m.key: 1 for m in messages}
    assert meta.most_in_flight > 8  # not one after the other
    sent = meta.requests[0]
    assert sent["headers"]["Authorization"] == f"Bearer {meta.access_token}"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sorted(json.loads(r["body"])["biz_opaque_callback_data"] for r in meta.requests) == sorted(meta.keys())


def test_each_message_its_own_outcome_in_one_batch(meta):
    """Accepted, a pair-rate refusal, a Graph refusal, a 500 after accepting and a connection cut
    after accepting, all in flight together: each outcome is that message's own."""
    messages = [
        hello("ok-1", "+905321110001"),
        hello("pair", "+905320000056"),
        hello("unknown-template", "+905321110002", template="nope"),
        hello("then-500", "+905320000500"),
        hello("then-cut", "+905320000502"),
        hello("ok-2", "+905321110003"),
    ]
    ok1, pair, unknown, then_500, then_cut, ok2 = make_connector(meta).send_each(messages)
    assert isinstance(ok1, SendResult) and ok1.status == DeliveryStatus.QUEUED
    assert isinstance(ok2, SendResult) and ok2.status == DeliveryStatus.QUEUED
    assert isinstance(pair, WhatsAppSendError) and pair.per_recipient and not pair.maybe_sent
    assert isinstance(unknown, SendResult) and unknown.status == DeliveryStatus.REJECTED
    assert unknown.raw_status == "132001"
    assert isinstance(then_500, WhatsAppSendError) and then_500.maybe_sent and not then_500.permanent
    assert isinstance(then_cut, WhatsAppSendError) and then_cut.maybe_sent
    assert meta.keys() == {"ok-1": 1, "ok-2": 1, "then-500": 1, "then-cut": 1}


def test_graph_error_body_is_read_with_code_subcode_transient_and_trace(meta):
    connector = make_connector(meta)
    sender = connector.sender
    [error] = sender.post_each([Post("unknown-object/messages", {"messaging_product": "whatsapp"})])
    assert isinstance(error, GraphError)
    assert (error.http_status, error.code, error.subcode) == (400, 100, 33)
    assert error.trace_id and not error.transient
    [pair] = sender.post_each(
        [Post(f"{meta.phone_number_id}/messages", connector.request_body(hello("k", "+905320000056")))]
    )
    assert isinstance(pair, GraphError) and pair.code == 131056 and pair.transient


def test_a_connection_dropped_after_the_request_is_maybe_sent_and_never_resent(meta):
    """The connection is kept alive from the first send; the second is taken and recorded, then the
    connection closes without an answer. libcurl would resend on a fresh connection by itself
    ("connection died"): the body cannot be rewound, so it does not, and the outcome is maybe sent."""
    connector = make_connector(meta)
    assert connector.send(hello("first", "+905321110001")).status == DeliveryStatus.QUEUED
    with pytest.raises(WhatsAppSendError) as caught:
        connector.send(hello("cut", "+905320000502"))
    assert caught.value.maybe_sent and not caught.value.permanent
    assert meta.keys()["cut"] == 1  # arrived once, never again
    assert connector.send(hello("after", "+905321110002")).status == DeliveryStatus.QUEUED  # the sender goes on
    assert meta.keys() == {"first": 1, "cut": 1, "after": 1}


def test_read_timeout_is_maybe_sent_for_every_message_in_flight(meta, monkeypatch):
    monkeypatch.setattr(client, "READ_TIMEOUT", 0.2)
    meta.response_delay = 0.6
    outcomes = make_connector(meta).send_each([hello(f"k-{i}", f"+90532111000{i}") for i in range(3)])
    assert all(isinstance(o, WhatsAppSendError) and o.maybe_sent and "in time" in str(o) for o in outcomes)


def test_refused_connection_is_not_sent():
    sender = GraphSender(base_url="http://127.0.0.1:9", version="v23.0", access_token="t")
    outcomes = sender.post_each([Post("1/messages", {"x": 1}), Post("1/messages", {"x": 2})])
    assert all(isinstance(o, GraphUnreachable) and not o.maybe_sent for o in outcomes)
    assert "connection refused" in str(outcomes[0])


def test_unknown_host_is_not_sent():
    sender = GraphSender(base_url="http://no-such-host.invalid", version="v23.0", access_token="t")
    [outcome] = sender.post_each([Post("1/messages", {"x": 1})])
    assert isinstance(outcome, GraphUnreachable) and not outcome.maybe_sent


def test_token_never_in_repr():
    sender = GraphSender(base_url="http://127.0.0.1:9", version="v23.0", access_token="tok-SECRET")
    assert "tok-SECRET" not in repr(sender)


class _Recorder(BaseHTTPRequestHandler):
    """A proxy stand-in: records the request line and answers as Graph would."""

    seen: list[str] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(self.path)
        data = json.dumps({"messages": [{"id": "wamid.proxied"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def proxy():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _clear_proxies(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_the_environments_proxy_is_used_and_no_proxy_honoured(meta, proxy, monkeypatch):
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    result = make_connector(meta).send(hello("via-proxy", "+905321110001"))
    assert result.provider_id == "wamid.proxied"
    assert _Recorder.seen == [f"{meta.url}/v23.0/{meta.phone_number_id}/messages"]  # the absolute URL: a proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert make_connector(meta).send(hello("direct", "+905321110002")).provider_id.startswith("wamid.")
    assert len(_Recorder.seen) == 1 and meta.keys() == {"direct": 1}


@pytest.fixture
def tls_fake(meta, tmp_path):
    """The fake behind TLS with a self-signed certificate for 127.0.0.1 (its PEM in `bundle`)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem, key_file)
    meta.server.socket = context.wrap_socket(meta.server.socket, server_side=True)
    return meta, str(pem), meta.url.replace("http://", "https://")


def test_the_ca_bundle_of_the_environment_is_honoured(tls_fake, monkeypatch):
    meta, bundle, url = tls_fake
    _clear_proxies(monkeypatch)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(WhatsAppSendError) as caught:  # certifi's roots do not know this certificate
        make_connector(meta, base_url=url).send(hello("untrusted", "+905321110001"))
    assert not caught.value.maybe_sent  # refused in the handshake: nothing of the request left
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    assert make_connector(meta, base_url=url).send(hello("trusted", "+905321110002")).status == DeliveryStatus.QUEUED
    assert meta.keys() == {"trusted": 1}


def test_a_batch_past_its_deadline_starts_nothing_more_and_says_so(meta):
    """A slow Meta cannot keep a batch past its claim: requests not started by the deadline are not
    sent (maybe_sent False, so they are retried), the ones started finish with their own outcome."""
    import time

    meta.response_delay = 0.2
    connector = make_connector(meta)
    sender = GraphSender(base_url=meta.url, version="v23.0", access_token=meta.access_token, concurrency=2)
    posts = [Post(f"{meta.phone_number_id}/messages", connector.request_body(hello(f"k-{i}", f"+90532111{i:03d}7")))
             for i in range(10)]  # fmt: skip
    outcomes = sender.post_each(posts, deadline=time.monotonic() + 0.3)
    answered = [o for o in outcomes if isinstance(o, dict)]
    not_started = [o for o in outcomes if isinstance(o, GraphUnreachable)]
    assert len(answered) == 4 and len(not_started) == 6  # two rounds of two began before the deadline
    assert all(not o.maybe_sent and "ran out of time" in str(o) for o in not_started)
    assert all(isinstance(o, dict) for o in outcomes[:4])  # in order: the first ones went
    assert sorted(meta.keys()) == [f"k-{i}" for i in range(4)]
