"""Netgsm SMS (providers.md §3): REST v2, HTTP Basic auth, POST /sms/rest/v2/send with one job
per request (n:n messages), `iysfilter` 11 (commercial, individuals) or 0 (informational), errors
as HTTP 406 {code, description}; no delivery webhook, so reports are polled with
/sms/rest/v2/report by job id (§3.4). Netgsm has no idempotency key: a lost answer is not resent."""

from __future__ import annotations

import json

import requests
from django import forms
from django.utils.translation import gettext_lazy as _

from providers.base import (
    Channel,
    CheckResult,
    DeliveryReport,
    DeliveryStatus,
    MessagingConnector,
    OutboundMessage,
    SendError,
    SendResult,
    TransportError,
)
from providers.parsing import as_text
from providers.sms import SmsAccountForm, post

DEFAULT_BASE_URL = "https://api.netgsm.com.tr"
SEND_ERRORS = {
    "20": ("the text is not acceptable or too long", True),
    "30": ("bad user code or password, API access not enabled, or this server's IP is not allowed", True),
    "40": ("the sender name (header) is not defined on the Netgsm account", True),
    "50": ("the account cannot make İYS-checked sends", True),
    "51": ("no İYS brand is defined for the Netgsm account", True),
    "70": ("a parameter is missing or wrong", True),
    "80": ("Netgsm's sending limit was exceeded", False),
    "85": ("more than 20 messages to the same number within a minute", False),
    "100": ("Netgsm system error", False),
    "101": ("Netgsm system error", False),
}
STATUS = {
    "0": DeliveryStatus.SENT,
    "1": DeliveryStatus.DELIVERED,
    "2": DeliveryStatus.EXPIRED,
    "3": DeliveryStatus.REJECTED,
    "4": DeliveryStatus.FAILED,
    "11": DeliveryStatus.REJECTED,
    "12": DeliveryStatus.UNDELIVERED,
    "13": DeliveryStatus.REJECTED,
    "14": DeliveryStatus.REJECTED,
    "15": DeliveryStatus.REJECTED,
    "16": DeliveryStatus.REJECTED,  # İYS rejected: a consent signal
    "17": DeliveryStatus.FAILED,
}
BOUNCE_ERRORS = {"104", "105", "116"}  # line inactive, wrong number, unidentified subscriber
TURKISH = frozenset("çğıİşŞĞÇöÖüÜ")


class NetgsmForm(SmsAccountForm):
    base_url = forms.URLField(label=_("Base URL"), initial=DEFAULT_BASE_URL, assume_scheme="https")
    usercode = forms.CharField(label=_("User code"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False))


class NetgsmConnector(MessagingConnector):
    name = "netgsm"
    label = _("Netgsm SMS")
    channel = Channel.SMS
    config_form = NetgsmForm
    secret_fields = ("password",)
    max_batch = 1000
    idempotent = False
    polls_reports = True
    nli = True

    @property
    def base_url(self) -> str:
        return (self.settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.auth = (self.settings.get("usercode", ""), self.credentials.get("password", ""))
        session.headers.update({"Content-Type": "application/json", "Accept": "application/json"})
        return session

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        results: list[SendResult] = []
        turkish = [m for m in messages if m.to.startswith("+90") and len(m.to) == 13]
        for m in messages:
            if m not in turkish:
                results.append(
                    SendResult(
                        key=m.key, status=DeliveryStatus.REJECTED, error="Netgsm sends to Turkish mobile numbers only"
                    )
                )
        # one job per sender and İYS filter (a job carries one header and one filter)
        groups: dict[tuple[str, str], list[OutboundMessage]] = {}
        for m in turkish:
            iysfilter = ("11" if m.recipient_type == "BIREYSEL" else "12") if m.commercial else "0"
            groups.setdefault((m.sender, iysfilter), []).append(m)
        for (sender, iysfilter), group in groups.items():
            body = {
                "msgheader": sender,
                "iysfilter": iysfilter,
                "appname": "panel",
                "messages": [{"msg": m.text, "no": m.to[3:]} for m in group],
            }
            if any(TURKISH & set(m.text) for m in group):
                body["encoding"] = "TR"
            response = post(self._session(), f"{self.base_url}/sms/rest/v2/send", data=json.dumps(body))
            answer = _json(response)
            code = str(answer.get("code", response.status_code))
            if response.status_code == 200 and code in ("00", "01", "02"):
                jobid = str(answer.get("jobid") or answer.get("jobId") or "")
                results.extend(
                    SendResult(
                        key=m.key,
                        status=DeliveryStatus.QUEUED,
                        provider_id=f"{jobid}/{m.to[3:]}",
                        raw_status=f"code {code}",
                    )
                    for m in group
                )
                continue
            if response.status_code >= 500:
                raise SendError(
                    f"Netgsm server error {response.status_code}", code=str(response.status_code), maybe_sent=True
                )
            text, permanent = SEND_ERRORS.get(code, (answer.get("description") or f"answer {code}", True))
            if not permanent:
                raise SendError(f"Netgsm: {text} (code {code})", code=code, retry_after=60)
            if code in ("20", "70"):  # this job's content: its messages are refused, the others go on
                results.extend(
                    SendResult(
                        key=m.key, status=DeliveryStatus.REJECTED, raw_status=f"code {code}", error=f"Netgsm: {text}"
                    )
                    for m in group
                )
                continue
            raise SendError(
                f"Netgsm: {text} (code {code})",
                permanent=True,
                code=code,
                status=DeliveryStatus.FAILED if code == "30" else DeliveryStatus.REJECTED,
            )
        return results

    def poll_reports(self, *, messages: list[tuple[str, str]]) -> list[DeliveryReport]:
        jobs = sorted({provider_id.split("/")[0] for _, provider_id in messages if "/" in provider_id})
        if not jobs:
            return []
        wanted = {provider_id for _, provider_id in messages}
        reports = []
        page = 0
        while True:
            body = {"jobids": jobs, "pagenumber": page, "pagesize": 100}
            response = post(self._session(), f"{self.base_url}/sms/rest/v2/report", data=json.dumps(body))
            answer = _json(response)
            code = str(answer.get("code", ""))
            if code == "60":
                break  # no records
            if response.status_code != 200 or code != "00":
                raise TransportError(
                    f"Netgsm report failed: code {code or response.status_code}", permanent=code == "30"
                )
            rows = answer.get("jobs")
            rows = rows if isinstance(rows, list) else []
            for row in rows:
                if not isinstance(row, dict):
                    continue  # not a report row: the others still count
                provider_id = f"{as_text(row.get('jobid'))}/{as_text(row.get('number'))}"
                if provider_id not in wanted:
                    continue
                status = as_text(row.get("status"), limit=10)
                error = as_text(row.get("errorCode"), limit=10) or "0"
                reports.append(
                    DeliveryReport(
                        provider_id=provider_id,
                        status=STATUS.get(status, DeliveryStatus.SENT),
                        raw_status=f"status {status}" + (f", error {error}" if error != "0" else ""),
                        bounce=error in BOUNCE_ERRORS,
                        consent_refused=status == "16",
                    )
                )
            if len(rows) < 100:
                break
            page += 1
        return reports

    def test_connection(self) -> CheckResult:
        try:
            response = self._session().get(f"{self.base_url}/sms/rest/v2/msgheader", timeout=10)
        except requests.RequestException as exc:
            return CheckResult(ok=False, message=f"could not reach Netgsm: {exc}")
        answer = _json(response)
        code = str(answer.get("code", ""))
        if response.status_code == 200 and code == "00":
            headers = ", ".join(answer.get("msgheaders") or []) or "none"
            return CheckResult(ok=True, message=f"Netgsm accepted the credentials; approved headers: {headers}")
        text = SEND_ERRORS.get(code, (f"answer {response.status_code} {code}", True))[0]
        return CheckResult(ok=False, message=f"Netgsm: {text}")


def _json(response: requests.Response) -> dict:
    try:
        value = response.json()
        return value if isinstance(value, dict) else {}
    except ValueError:
        return {}
