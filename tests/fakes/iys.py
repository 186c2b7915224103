"""A fake İYS over real HTTP on 127.0.0.1 (iys.md §3, §5, §8-10, §15): OAuth2 password and refresh
grants, brand listing, single consent add with İYS's rules, and the changes feed with its cursor
and 1-hour lag. Test controls are plain methods (citizen actions, 429s, token expiry, H084)."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from tests.fakes.base import FakeServer

IST = ZoneInfo("Europe/Istanbul")
FMT = "%Y-%m-%d %H:%M:%S"


class FakeIys(FakeServer):
    def __init__(self, *, iys_code=700100, brands=(700100,), username="api-user", password="api-pass"):  # noqa: S107
        self.iys_code = iys_code
        self.brands = set(brands)
        self.username, self.password = username, password
        self.consents: dict[tuple, dict] = {}
        self.movements: list[dict] = []
        # per (brand, origin): movements ordered by (creationDate, cursor), as İYS serves its feed
        self._feeds: dict[tuple, list[tuple]] = {}
        self._cursor_keys: dict[str, tuple] = {}
        self.tokens: dict[str, dict] = {}
        self.token_requests = 0
        self.token_limit: int | None = None  # H084 after this many token requests
        self.fail_next_with_429 = 0
        self.lag_hours = 1  # the changes feed hides the last hour; 0 switches the lag off in tests
        self.received: list[tuple[str, str, dict | None]] = []  # (method, path, json body)
        self.requests: dict[str, dict] = {}  # C2 requestId -> {"items": [...], "polls": n}
        self.polls_before_done = 1  # C3 answers "enqueue" this many times first
        self.c2_delay = 0.0  # seconds C2 waits after accepting a batch before it answers
        self.status_batch_limit = 100  # C5 recipients per request
        self.status_queries = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._serve(self._handler())

    # --- lifecycle ---------------------------------------------------------------------

    # --- test controls -----------------------------------------------------------------
    def citizen(
        self,
        recipient: str,
        status: str,
        *,
        type_="MESAJ",
        source="IYS_WEB",
        brand=None,
        age_hours=2,
        citizen_name=None,
    ):
        """A recipient changes their consent at İYS (web, app, 3338 ...)."""
        when = datetime.now(IST) - timedelta(hours=age_hours)
        self._record(
            brand or min(self.brands),
            recipient,
            "BIREYSEL",
            type_,
            status,
            source,
            when,
            when,
            origin="IYS",
            citizen_name=citizen_name,
        )

    def holds(self, recipient: str, status: str, *, consent_date: datetime, source="HS_WEB", type_="MESAJ", brand=None):
        """İYS already holds this consent (written long ago: it is not in the 7-day changes feed)."""
        with self._lock:
            self.consents[(brand or min(self.brands), recipient, "BIREYSEL", type_)] = {
                "status": status,
                "source": source,
                "consentDate": consent_date.astimezone(IST),
                "transactionId": hashlib.sha256(recipient.encode()).hexdigest(),
            }

    def expire_tokens(self):
        self.tokens.clear()

    # --- state -------------------------------------------------------------------------
    def _record(
        self, brand, recipient, rtype, type_, status, source, consent_date, created, *, origin, citizen_name=None
    ):
        with self._lock:
            tid = hashlib.sha256(str(next(self._ids)).encode()).hexdigest()
            self.consents[(brand, recipient, rtype, type_)] = {
                "status": status,
                "source": source,
                "consentDate": consent_date,
                "transactionId": tid,
            }
            movement = {
                "brand": brand,
                "origin": origin,
                "created": created,
                "cursor": f"{int(created.timestamp() * 1000)}_{tid}",
                "item": {
                    "consentDate": consent_date.strftime(FMT),
                    "creationDate": created.strftime(FMT),
                    "source": source,
                    "recipient": recipient,
                    "recipientType": rtype,
                    "status": status,
                    "type": type_,
                    "transactionId": tid,
                },
            }
            if citizen_name:
                movement["item"]["citizenName"] = citizen_name
            self.movements.append(movement)
            key = (created, movement["cursor"])
            bisect.insort(self._feeds.setdefault((brand, origin), []), (*key, len(self.movements) - 1))
            self._cursor_keys[movement["cursor"]] = key
            return tid, created

    def apply(self, brand, body) -> tuple[int, dict]:
        """İYS's rules for one consent (iys.md §8): (200, {transactionId, creationDate}) or an error."""
        try:
            when = datetime.strptime(body.get("consentDate", ""), FMT).replace(tzinfo=IST)
        except (ValueError, TypeError):
            return 422, {"code": "H158", "message": "Tarih formatı hatalı."}
        if when > datetime.now(IST):
            return 422, {"code": "H162", "message": "Mevcut tarih ve saatten ileri bir tarih girilmemelidir."}
        if body.get("type") != "EPOSTA" and not re.fullmatch(r"\+\d{8,14}", body.get("recipient", "")):
            return 422, {"code": "H121", "message": "E164 formatına uygun telefon numarası girilmelidir."}
        key = (brand, body.get("recipient"), body.get("recipientType", "BIREYSEL"), body.get("type"))
        current = self.consents.get(key)
        if current is None and body.get("status") == "RET":
            return 400, {"code": "H175", "message": "İlk defa kaydedilen bir iznin durumu RET olmamalıdır."}
        if current and current["status"] == body.get("status"):
            return 400, {"code": "H174", "message": "Durum güncellemesi mevcut durumdan farklı olmalıdır."}
        if current and when <= current["consentDate"]:
            return 400, {"code": "H178", "message": "İzin tarihi kayıtlı izin tarihinden eski olamaz."}
        tid, created = self._record(
            brand, key[1], key[2], key[3], body["status"], body.get("source"), when, datetime.now(IST), origin="HS"
        )
        return 200, {"transactionId": tid, "creationDate": created.strftime(FMT)}

    # --- HTTP --------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status, code, message, **extra):
                self._send(status, {"errors": [{"code": code, "message": message, **extra}]})

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    return json.loads(raw or b"{}")
                except ValueError:
                    return None

            def _authorised(self):
                header = self.headers.get("Authorization", "")
                token = header[7:] if header.startswith("Bearer ") else ""
                entry = fake.tokens.get(token)
                return entry is not None and entry["kind"] == "access"

            def do_POST(self):
                body = self._body()
                fake.received.append(("POST", self.path, body))
                if fake.fail_next_with_429 > 0:
                    fake.fail_next_with_429 -= 1
                    return self._error(429, "H124", "Saniyede kabul edilen istek limitine ulaşıldı.")
                if self.path == "/oauth2/token":
                    return self._token(body or {})
                if not self._authorised():
                    return self._error(401, "H351", "Eksik veya geçersiz jeton!")
                match = re.fullmatch(r"/sps/(\d+)/brands/(\d+)/consents", self.path)
                if match:
                    return self._add(int(match[1]), int(match[2]), body)
                match = re.fullmatch(r"/sps/(\d+)/brands/(\d+)/consents/request", self.path)
                if match:
                    return self._add_many(int(match[1]), int(match[2]), body)
                match = re.fullmatch(
                    r"/sps/(\d+)/brands/(\d+)/consents/(BIREYSEL|TACIR)/status/(MESAJ|ARAMA|EPOSTA)", self.path
                )
                if match:
                    return self._onay_among(int(match[1]), int(match[2]), match[3], match[4], body)
                match = re.fullmatch(r"/sps/(\d+)/brands/(\d+)/consents/status", self.path)
                if match:
                    return self._status(int(match[1]), int(match[2]), body)
                return self._error(404, "H404", "not found")

            def do_GET(self):
                fake.received.append(("GET", self.path, None))
                if fake.fail_next_with_429 > 0:
                    fake.fail_next_with_429 -= 1
                    return self._error(429, "H124", "Saniyede kabul edilen istek limitine ulaşıldı.")
                if not self._authorised():
                    return self._error(401, "H351", "Eksik veya geçersiz jeton!")
                url = urlparse(self.path)
                match = re.fullmatch(r"/sps/(\d+)/brands", url.path)
                if match:
                    if int(match[1]) != fake.iys_code:
                        return self._error(403, "H353", "Yetkisiz erişim.")
                    return self._send(
                        200,
                        [
                            {"brandCode": b, "name": f"Brand {b}", "master": b == fake.iys_code, "stats": {}}
                            for b in sorted(fake.brands)
                        ],
                    )
                match = re.fullmatch(r"/sps/(\d+)/brands/(\d+)/consents/request/([0-9a-f-]+)", url.path)
                if match:
                    return self._poll(int(match[1]), int(match[2]), match[3])
                match = re.fullmatch(r"/sps/(\d+)/brands/(\d+)/consents/changes", url.path)
                if match:
                    return self._changes(int(match[1]), int(match[2]), parse_qs(url.query))
                return self._error(404, "H404", "not found")

            def _token(self, body):
                fake.token_requests += 1
                if fake.token_limit is not None and fake.token_requests > fake.token_limit:
                    return self._send(429, {"code": "H084", "message": "Saatlik kimlik doğrulama limitine ulaşıldı."})
                grant = body.get("grant_type")
                if grant == "password":
                    if (body.get("username"), body.get("password")) != (fake.username, fake.password):
                        return self._send(401, {"code": "H251", "message": "Geçersiz kullanıcı adı veya şifre."})
                elif grant == "refresh_token":
                    entry = fake.tokens.pop(body.get("refresh_token", ""), None)
                    if entry is None or entry["kind"] != "refresh":
                        return self._send(401, {"code": "H351", "message": "Eksik veya geçersiz jeton!"})
                else:
                    return self._send(400, {"code": "H250", "message": "grant_type eksik."})
                access, refresh = (hashlib.sha256(f"{k}{next(fake._ids)}".encode()).hexdigest() for k in "ar")
                fake.tokens[access] = {"kind": "access"}
                fake.tokens[refresh] = {"kind": "refresh"}
                return self._send(
                    200,
                    {
                        "access_token": access,
                        "refresh_token": refresh,
                        "expires_in": 7200,
                        "refresh_expires_in": 14400,
                        "token_type": "bearer",
                    },
                )

            def _check_path(self, iys_code, brand):
                if iys_code != fake.iys_code or brand not in fake.brands:
                    self._error(403, "H353", "İstek yolundaki değer kullanıcı yetkileriyle uyuşmuyor.")
                    return False
                return True

            def _add(self, iys_code, brand, body):
                if not self._check_path(iys_code, brand):
                    return None
                if body is None:
                    return self._error(400, "H014", "Geçersiz JSON.")
                status, result = fake.apply(brand, body)
                if status != 200:
                    return self._error(status, result["code"], result["message"])
                return self._send(200, result)

            def _onay_among(self, iys_code, brand, rtype, type_, body):
                """C5: the recipients of the request that İYS holds in ONAY."""
                if not self._check_path(iys_code, brand):
                    return
                recipients = (body or {}).get("recipients") or []
                if not recipients:
                    return self._error(422, "H168", "Alıcı listesi boş olmamalıdır.")
                if len(recipients) > fake.status_batch_limit:
                    return self._error(400, "H127", f"En fazla {fake.status_batch_limit} alıcı sorgulanabilir.")
                fake.status_queries += 1
                onay = [
                    r for r in recipients if (fake.consents.get((brand, r, rtype, type_)) or {}).get("status") == "ONAY"
                ]
                return self._send(200, {"list": onay})

            def _status(self, iys_code, brand, body):
                """C4: one consent's current record; 404 when İYS holds none (iys.md §5.4)."""
                if not self._check_path(iys_code, brand):
                    return
                body = body or {}
                key = (brand, body.get("recipient"), body.get("recipientType", "BIREYSEL"), body.get("type"))
                current = fake.consents.get(key)
                if current is None:
                    return self._error(404, "H404", "Kayıt bulunamadı.")
                return self._send(
                    200,
                    {
                        "recipient": key[1],
                        "recipientType": key[2],
                        "type": key[3],
                        "status": current["status"],
                        "source": current["source"],
                        "consentDate": current["consentDate"].strftime(FMT),
                        "transactionId": current["transactionId"],
                    },
                )

            def _add_many(self, iys_code, brand, body):
                if not self._check_path(iys_code, brand):
                    return None
                if not isinstance(body, list):
                    return self._error(400, "H092", "Geçersiz çoklu izin ekleme isteği.")
                if len(body) > 1000:
                    return self._error(422, "H125", "Tek seferde en fazla 1000 izin gönderilebilir.")
                keys = [(i.get("recipientType"), i.get("type"), i.get("recipient")) for i in body]
                if len(set(keys)) != len(keys):
                    return self._error(422, "H194", "İstekte aynı izin birden fazla kez yer alamaz.")
                request_id = str(uuid.uuid4())
                items = []
                for index, item in enumerate(body, start=1):
                    status, result = fake.apply(brand, item)
                    entry = {"index": index, "subrequestId": str(uuid.uuid4())}
                    if status == 200:
                        entry.update(status="success", **result)
                    else:
                        entry.update(status="failure", error={"code": result["code"], "message": result["message"]})
                    items.append(entry)
                fake.requests[request_id] = {"brand": brand, "items": items, "polls": 0}
                if fake.c2_delay:
                    time.sleep(fake.c2_delay)  # the batch is in İYS; the answer is not back yet
                subs = [{"subrequestId": e["subrequestId"], **item} for e, item in zip(items, body, strict=True)]
                return self._send(200, {"requestId": request_id, "subRequests": subs})

            def _poll(self, iys_code, brand, request_id):
                if not self._check_path(iys_code, brand):
                    return None
                request = fake.requests.get(request_id)
                if request is None or request["brand"] != brand:
                    return self._error(422, "H093", "requestId bulunamadı.")
                request["polls"] += 1
                if request["polls"] <= fake.polls_before_done:
                    return self._send(
                        200,
                        [
                            {"index": e["index"], "status": "enqueue", "subrequestId": e["subrequestId"]}
                            for e in request["items"]
                        ],
                    )
                return self._send(200, request["items"])

            def _changes(self, iys_code, brand, query):
                if not self._check_path(iys_code, brand):
                    return None
                source = (query.get("source") or [""])[0]
                if source not in ("HS", "IYS"):
                    return self._error(400, "H097", "Geçersiz izin sorgulama isteği.")
                after = (query.get("after") or [""])[0]
                limit = int((query.get("limit") or ["999"])[0])
                now = datetime.now(IST)
                feed = fake._feeds.get((brand, source), [])
                oldest, newest = now - timedelta(days=7), now - timedelta(hours=fake.lag_hours)
                start = bisect.bisect_left(feed, (oldest,))
                if after in fake._cursor_keys:  # continue right after the last movement returned
                    start = max(start, bisect.bisect_right(feed, (*fake._cursor_keys[after], len(fake.movements))))
                page = []
                for created, _cursor, index in feed[start : start + limit]:
                    if created > newest:  # the feed hides the most recent hour
                        break
                    page.append(fake.movements[index])
                return self._send(
                    200, {"after": page[-1]["cursor"] if page else after, "list": [m["item"] for m in page]}
                )

        return Handler
