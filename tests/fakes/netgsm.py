"""A fake Netgsm REST v2 over real HTTP on 127.0.0.1 (providers.md §3.5): Basic auth (406 code 30),
header allow-list (40), `no` pattern and iysfilter checks (70), a consent table so a commercial
send to a RET number ends as status 16, and report polling by job id."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler

from tests.fakes.base import FakeServer

MAGIC = {"0001": ("12", "105"), "0002": ("2", "111"), "0003": ("3", "0"), "0009": ("0", "0")}  # status, errorCode


class FakeNetgsm(FakeServer):
    def __init__(self, *, usercode="8503000000", password="secret", headers=("MARKA",)):  # noqa: S107
        self.usercode, self.password = usercode, password
        self.headers = set(headers)
        self.ret_numbers: set[str] = set()  # İYS says RET for these (10-digit national numbers)
        self.jobs: dict[str, list[dict]] = {}
        self.requests: list[dict] = []
        self.fail_next_with_limit = 0  # 406 code 80: Netgsm's own "too many" answer (its 429)
        self._ids = itertools.count(1_000_001)
        self._lock = threading.Lock()
        self._serve(self._handler())

    def recipients(self) -> Counter:
        return Counter(m["no"] for job in self.jobs.values() for m in job)

    def _outcome(self, message: dict, iysfilter: str) -> tuple[str, str]:
        if iysfilter in ("11", "12") and message["no"] in self.ret_numbers:
            return "16", "0"
        return MAGIC.get(message["no"][-4:], ("1", "0"))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _auth(self):
                expected = base64.b64encode(f"{fake.usercode}:{fake.password}".encode()).decode()
                if self.headers.get("Authorization") == f"Basic {expected}":
                    return True
                self._reply(406, {"code": "30", "description": "Geçersiz kullanıcı adı, şifre"})
                return False

            def do_GET(self):
                if not self._auth():
                    return
                if self.path == "/sms/rest/v2/msgheader":
                    return self._reply(200, {"code": "00", "msgheaders": sorted(fake.headers)})
                self._reply(404, {"code": "70"})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                if not self._auth():
                    return
                body = json.loads(raw)
                if self.path == "/sms/rest/v2/send" and fake.fail_next_with_limit > 0:
                    fake.fail_next_with_limit -= 1
                    return self._reply(406, {"code": "80", "description": "Gönderim sınır aşımı"})
                if self.path == "/sms/rest/v2/send":
                    if body.get("msgheader") not in fake.headers:
                        return self._reply(406, {"code": "40", "description": "Mesaj başlığı tanımlı değil"})
                    if str(body.get("iysfilter")) not in ("0", "11", "12"):
                        return self._reply(406, {"code": "70", "description": "iysfilter"})
                    messages = body.get("messages") or []
                    if not messages or any(not re.fullmatch(r"[0-9]{10}", str(m.get("no", ""))) for m in messages):
                        return self._reply(406, {"code": "70", "description": "Hatalı numara"})
                    with fake._lock:
                        jobid = str(next(fake._ids))
                        fake.jobs[jobid] = [
                            {**m, "iysfilter": str(body["iysfilter"]), "encoding": body.get("encoding")}
                            for m in messages
                        ]
                    return self._reply(200, {"code": "00", "description": "queued", "jobid": jobid})
                if self.path == "/sms/rest/v2/report":
                    rows = []
                    for jobid in body.get("jobids") or []:
                        for m in fake.jobs.get(str(jobid), []):
                            status, error = fake._outcome(m, m["iysfilter"])
                            rows.append(
                                {
                                    "jobid": str(jobid),
                                    "number": m["no"],
                                    "status": int(status),
                                    "operator": 30,
                                    "msglen": len(m["msg"]),
                                    "errorCode": int(error),
                                }
                            )
                    size, page = int(body.get("pagesize", 100)), int(body.get("pagenumber", 0))
                    rows = rows[page * size : (page + 1) * size]
                    if not rows:
                        return self._reply(200, {"code": "60", "description": "Kayıt yok"})
                    return self._reply(200, {"code": "00", "jobs": rows})
                self._reply(404, {"code": "70"})

        return Handler
