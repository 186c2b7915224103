"""A fake JetSMS over real HTTP on 127.0.0.1 (providers.md §2.6): the XML send surface
(`/SMS-Web8/xmlsms`, plain-text answers byte-exact: `00 <groupId>`, `10`, `11`, `20`, `90`) and the
SOAP surface (`/ws/soapSMS.asmx`: ReportSMS by group, GetSMSCredit). It keeps a group → messages
table; each report call moves a message one step along its deterministic state sequence."""

from __future__ import annotations

import itertools
import re
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from tests.fakes.base import FakeServer

SOAP_NS = "http://tempuri.org/"
ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
# MessageState sequences, one step per report call: at the operator (2), then the outcome
SEQUENCES = {"0001": ["2", "3"], "0002": ["2", "4"], "0003": ["-1"], "0009": ["2"]}
NORMAL = ["2", "1"]


class FakeJetSms(FakeServer):
    def __init__(self, *, username="jetuser", password="secret", outboxes=("MARKA",), credit=1_000_000):  # noqa: S107
        self.username, self.password = username, password
        self.outboxes = set(outboxes)
        self.credit = credit
        self.groups: dict[str, list[dict]] = {}
        self.requests: list[dict] = []
        self.fail_next_with_90 = 0  # system error: nothing sent
        self.fail_next_with_503 = 0
        self.fail_next_with_429 = 0  # a gateway in front of JetSMS throttling us
        self._ids = itertools.count(7_000_001)
        self._lock = threading.Lock()
        self._serve(self._handler())

    @property
    def xml_url(self) -> str:
        return f"{self.url}/SMS-Web8/xmlsms"

    @property
    def soap_url(self) -> str:
        return f"{self.url}/ws/soapSMS.asmx"

    def recipients(self) -> Counter:
        return Counter(m["gsmno"] for group in self.groups.values() for m in group)

    # --- protocol -------------------------------------------------------------------------

    def send(self, raw: bytes) -> str:
        try:
            root = SafeET.fromstring(raw)
        except ET.ParseError:
            return "20"
        if root.tag != "message-context" or root.get("type") not in ("smmgsd", "mmmgsd"):
            return "20"
        if root.findtext("username") != self.username or root.findtext("password") != self.password:
            return "10"
        if root.findtext("outbox-name") not in self.outboxes:
            return "12"
        if root.get("type") == "smmgsd":
            text = root.findtext("text") or ""
            messages = [{"gsmno": n.strip(), "text": text} for n in (root.findtext("gsmnos") or "").split(",")]
        else:
            messages = [
                {"gsmno": (m.findtext("gsmno") or "").strip(), "text": m.findtext("text") or ""}
                for m in root.iter("message")
            ]
        if not messages or any(not re.fullmatch(r"5[0-9]{9}", m["gsmno"]) for m in messages):
            return "20"
        with self._lock:
            if self.fail_next_with_90:
                self.fail_next_with_90 -= 1
                return "90"
            if len(messages) > self.credit:
                return "11"
            self.credit -= len(messages)
            group_id = str(next(self._ids))
            for m in messages:
                m["states"] = list(SEQUENCES.get(m["gsmno"][-4:], NORMAL))
                m["outbox"] = root.findtext("outbox-name")
            self.groups[group_id] = messages
        return f"00 {group_id}"

    def soap(self, raw: bytes) -> tuple[int, str]:
        root = SafeET.fromstring(raw)
        body = root.find(f"{{{ENVELOPE_NS}}}Body")
        operation = body[0]
        name = operation.tag.rsplit("}", 1)[-1]
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in operation}
        if fields.get("user") != self.username or fields.get("password") != self.password:
            if name == "GetSMSCredit":
                return 200, self._envelope(name, "<ErrorCode>10</ErrorCode>")
            return 500, self._fault("10 wrong user or password")
        if name == "GetSMSCredit":
            return 200, self._envelope(name, f"<ErrorCode>00</ErrorCode><Credit>{self.credit}</Credit>")
        if name == "ReportSMS":
            rows = []
            with self._lock:
                for m in self.groups.get(fields.get("groupid", ""), []):
                    state = m["states"][0]
                    if len(m["states"]) > 1:
                        m["states"].pop(0)
                    rows.append(
                        f"<SMSReport><ID>{escape(fields['groupid'])}</ID><Phone>90{m['gsmno']}</Phone>"
                        f"<Status>{state}</Status><SendDate>2026-11-23 10:00:00</SendDate>"
                        f"<DeliveredDate></DeliveredDate></SMSReport>"
                    )
            return 200, self._envelope(name, "".join(rows))
        return 500, self._fault(f"unknown operation {name}")

    @staticmethod
    def _fault(text: str) -> str:
        return (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ENVELOPE_NS}"><soap:Body>'
            f"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{escape(text)}</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )

    @staticmethod
    def _envelope(operation: str, result: str) -> str:
        return (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{ENVELOPE_NS}"><soap:Body>'
            f'<{operation}Response xmlns="{SOAP_NS}"><{operation}Result>{result}</{operation}Result>'
            f"</{operation}Response></soap:Body></soap:Envelope>"
        )

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code: int, text: str, content_type: str):
                data = text.encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                if self.path == "/SMS-Web8/xmlsms":
                    with fake._lock:
                        if fake.fail_next_with_503:
                            fake.fail_next_with_503 -= 1
                            return self._reply(503, "Service Unavailable", "text/plain")
                        if fake.fail_next_with_429:
                            fake.fail_next_with_429 -= 1
                            return self._reply(429, "Too Many Requests", "text/plain")
                    return self._reply(200, fake.send(raw), "text/plain; charset=utf-8")
                if self.path == "/ws/soapSMS.asmx":
                    code, text = fake.soap(raw)
                    return self._reply(code, text, "text/xml; charset=utf-8")
                self._reply(404, "Not Found", "text/plain")

        return Handler
