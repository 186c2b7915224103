"""The İYS API client (iys.md §3-5, §10-11) over requests. Tokens are cached in the Django cache,
shared by every web process, worker and management command (Redis, or on the embedded default a
database table), and only one process fetches a new token at a time (cache.add is the lock: atomic
in both), so the hourly token limit (H084) is never hit by many workers at once."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
from django.core.cache import cache

logger = logging.getLogger(__name__)
IST = ZoneInfo("Europe/Istanbul")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
STATUS_BATCH = 100  # recipients per C5 request (iys.md §5.5)

RETRYABLE = {"H015", "H083", "H101", "H102", "H103", "H123", "H124", "H179", "H192", "H412", "H470"}
# İYS refused the consent itself (a business rule): never retried, shown on the change.
CONSENT_REJECTED = {
    "H119",
    "H120",
    "H121",
    "H122",
    "H155",
    "H156",
    "H157",
    "H158",
    "H162",
    "H174",
    "H175",
    "H178",
    "H408",
    "H464",
}
PLAIN = {
    "H251": "the İYS API username or password is wrong",
    "H250": "the İYS API username or password is missing",
    "H353": "this İYS user may not act for that İYS code or brand: check the IYS Code and Brand Code, and that "
    "the brand has authorised this solution partner in its İYS panel (İş Ortaklığı)",
    "H084": "İYS's hourly limit of token requests is reached; the panel waits an hour before asking again",
    "H124": "İYS is rate-limiting requests; they are retried with back-off",
    "H351": "the İYS token was refused",
}


class IysError(Exception):
    """kind: 'retryable' (try later), 'rejected' (İYS refused this consent), 'permanent'."""

    def __init__(self, message: str, *, code: str = "", status: int = 0, kind: str = "permanent"):
        super().__init__(message)
        self.code, self.status, self.kind = code, status, kind


def classify(code: str, status: int) -> str:
    if code in RETRYABLE or status == 429 or status >= 500:
        return "retryable"
    if code in CONSENT_REJECTED:
        return "rejected"
    return "permanent"


def iys_date(moment: datetime) -> str:
    return moment.astimezone(IST).strftime(DATE_FORMAT)


def parse_iys_date(text: str) -> datetime:
    return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=IST)


class IysClient:
    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        iys_code: int,
        brand_code: int,
        timeout: float = 20,
        max_retries: int = 4,
        sleep=time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.username, self._password = username, password
        self.iys_code, self.brand_code = int(iys_code), int(brand_code)
        self.timeout, self.max_retries, self.sleep = timeout, max_retries, sleep
        self.session = requests.Session()
        # new credentials mean a new token; the key holds a hash, never the password itself
        key = hashlib.sha256(f"{self.base_url}|{username}|{password}".encode()).hexdigest()[:32]
        self._token_key, self._lock_key, self._block_key = f"iys:token:{key}", f"iys:lock:{key}", f"iys:h084:{key}"

    def __repr__(self) -> str:
        return f"<IysClient {self.base_url} iys={self.iys_code} brand={self.brand_code}>"

    @property
    def prefix(self) -> str:
        return f"/sps/{self.iys_code}/brands/{self.brand_code}"

    # --- tokens ------------------------------------------------------------------------
    def _token(self) -> str:
        for _ in range(100):
            entry = cache.get(self._token_key)
            if entry and entry["access_expires"] > time.time() + 300:
                return entry["access"]
            if cache.get(self._block_key):
                raise IysError(PLAIN["H084"], code="H084", kind="retryable")
            if cache.add(self._lock_key, "1", timeout=30):  # this process fetches; others wait for it
                try:
                    # the holder before us may have stored a token (or met H084) since we looked
                    entry = cache.get(self._token_key)
                    if entry and entry["access_expires"] > time.time() + 300:
                        return entry["access"]
                    if cache.get(self._block_key):
                        raise IysError(PLAIN["H084"], code="H084", kind="retryable")
                    return self._fetch_token(entry)
                finally:
                    cache.delete(self._lock_key)
            time.sleep(0.1)
        raise IysError("timed out waiting for another worker to fetch the İYS token", kind="retryable")

    def _fetch_token(self, entry: dict | None) -> str:
        body = None
        if entry and entry.get("refresh_expires", 0) > time.time() + 60:
            body = self._token_call({"refresh_token": entry["refresh"], "grant_type": "refresh_token"})
        if body is None:
            body = self._token_call(
                {"username": self.username, "password": self._password, "grant_type": "password"}, must=True
            )
        now = time.time()
        cache.set(
            self._token_key,
            {
                "access": body["access_token"],
                "refresh": body.get("refresh_token", ""),
                "access_expires": now + int(body.get("expires_in", 7200)),
                "refresh_expires": now + int(body.get("refresh_expires_in", 14400)),
            },
            timeout=int(body.get("refresh_expires_in", 14400)),
        )
        return body["access_token"]

    def _token_call(self, payload: dict, *, must: bool = False) -> dict | None:
        try:
            response = self.session.post(f"{self.base_url}/oauth2/token", json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise IysError(f"İYS could not be reached: {exc.__class__.__name__}", kind="retryable") from exc
        if response.status_code == 200:
            return response.json()
        code = _error_code(response)
        if code == "H084":
            cache.set(self._block_key, "1", timeout=3600)
            raise IysError(PLAIN["H084"], code=code, status=response.status_code, kind="retryable")
        if not must:
            return None  # a refused refresh falls back to the password grant
        raise IysError(
            PLAIN.get(code, f"İYS refused the login ({code or response.status_code})"),
            code=code,
            status=response.status_code,
            kind=classify(code, response.status_code),
        )

    # --- requests ----------------------------------------------------------------------
    def _request(self, method: str, path: str, *, json=None, params=None):
        reauthenticated = False
        for attempt in range(self.max_retries + 1):
            headers = {"Authorization": f"Bearer {self._token()}"}
            try:
                response = self.session.request(
                    method, f"{self.base_url}{path}", json=json, params=params, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                error = IysError(f"İYS could not be reached: {exc.__class__.__name__}", kind="retryable")
            else:
                if response.status_code < 300:
                    return response.json()
                code = _error_code(response)
                if response.status_code == 401 and not reauthenticated:
                    cache.delete(self._token_key)
                    reauthenticated = True
                    continue
                message = PLAIN.get(code) or _error_message(response)
                error = IysError(
                    message, code=code, status=response.status_code, kind=classify(code, response.status_code)
                )
            if error.kind != "retryable" or attempt == self.max_retries:
                raise error
            delay = min(2**attempt, 30)
            logger.warning("İYS %s %s: %s; retrying in %ss", method, path, error.code or error, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")

    def brands(self) -> list[dict]:
        return self._request("GET", f"/sps/{self.iys_code}/brands")

    def add_consent(self, consent: dict) -> dict:
        return self._request("POST", f"{self.prefix}/consents", json=consent)

    def add_consents(self, consents: list[dict]) -> dict:
        """C2: at most 1000, no recipient twice; İYS answers a requestId to poll."""
        if len(consents) > 1000:
            raise ValueError("İYS takes at most 1000 consents a request")
        keys = {(c["recipientType"], c["type"], c["recipient"]) for c in consents}
        if len(keys) != len(consents):
            raise ValueError("a recipient appears twice in one İYS request")
        return self._request("POST", f"{self.prefix}/consents/request", json=consents)

    def request_result(self, request_id: str) -> list[dict]:
        """C3: one item per submitted consent: success | failure | enqueue."""
        body = self._request("GET", f"{self.prefix}/consents/request/{request_id}")
        return body.get("subRequests", []) if isinstance(body, dict) else body

    def changes(self, *, source: str, after: str | None = None, limit: int = 999) -> dict:
        params = {"source": source, "limit": limit}
        if after:
            params["after"] = after
        return self._request("GET", f"{self.prefix}/consents/changes", params=params)

    def onay_among(self, *, recipient_type: str, type_: str, recipients: list[str]) -> set[str]:
        """C5: which of `recipients` İYS holds in ONAY (absent = RET or no record; İYS does not
        say which). At most STATUS_BATCH a request (iys.md §5.5: 100 until 1000 is verified)."""
        if len(recipients) > STATUS_BATCH:
            raise ValueError(f"İYS takes at most {STATUS_BATCH} recipients a status request")
        body = self._request(
            "POST", f"{self.prefix}/consents/{recipient_type}/status/{type_}", json={"recipients": recipients}
        )
        return set((body or {}).get("list") or [])

    def consent_status(self, *, recipient: str, recipient_type: str, type_: str) -> dict | None:
        """C4: İYS's current record of one consent, or None when İYS holds none (404)."""
        try:
            return self._request(
                "POST",
                f"{self.prefix}/consents/status",
                json={"recipient": recipient, "recipientType": recipient_type, "type": type_},
            )
        except IysError as exc:
            if exc.status == 404:
                return None
            raise


def _error_code(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        if body.get("errors"):
            return str(body["errors"][0].get("code", ""))
        return str(body.get("code", ""))
    return ""


def _error_message(response) -> str:
    try:
        body = response.json()
        first = body["errors"][0] if body.get("errors") else body
        return f"İYS answered {first.get('code', response.status_code)}: {first.get('message', '')}".strip()
    except (ValueError, AttributeError, KeyError, IndexError):
        return f"İYS answered HTTP {response.status_code}"
