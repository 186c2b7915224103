"""JetSMS (Biotekno), providers.md §2. No official document exists; we use the surfaces the
official Biotekno client and the most detailed adapters agree on:

* send: the XML surface (§2.1), `POST …/SMS-Web8/xmlsms`, `text/xml`, UTF-8 declared, one
  request per sender: `smmgsd` when every message has the same text, else `mmmgsd` with one
  `<message>` per number. Answer `00 <groupId>`; the group id is the report handle.
* reports: JetSMS has no webhook, so they are polled with the SOAP `ReportSMS(user, password,
  groupid, status=5)` (§2.3), which lists every number of a group with its state. The states are
  read with the HttpSmsReport MessageState table (§2.2); no source gives SOAP's own table.
* test connection: SOAP `GetSMSCredit`, which sends nothing.

JetSMS has no client-side idempotency key: a request whose answer was lost is never resent (the
dispatcher marks it "outcome unknown"). The XML surface carries no İYS fields, so İYS is checked
by our own sending rule only; JetSMS accounts count Latin-5 characters (§2.5)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import requests
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
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
from providers.sms import CONNECT_TIMEOUT, READ_TIMEOUT, SmsAccountForm, post, retry_after

DEFAULT_XML_URL = "https://service.jetsms.com.tr/SMS-Web8/xmlsms"
DEFAULT_SOAP_URL = "https://api.jetsms.com.tr/ws/soapSMS.asmx"
SOAP_NS = "http://tempuri.org/"
ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"

# XML send answers (§2.1) and SOAP ErrorCode classes (§2.3): (plain words, permanent, status)
ERRORS = {
    "03": ("the user name or password is empty", True, DeliveryStatus.FAILED),
    "10": ("JetSMS refused the user name or password", True, DeliveryStatus.FAILED),
    "11": ("the JetSMS account has no credit left", True, DeliveryStatus.FAILED),
    "12": ("the sender name (outbox) is not defined on the JetSMS account", True, DeliveryStatus.FAILED),
    "20": ("JetSMS could not read the request (invalid XML)", True, DeliveryStatus.REJECTED),
    "28": ("this server's IP address is not allowed on the JetSMS account", True, DeliveryStatus.FAILED),
    "30": ("the sender name (outbox) is missing", True, DeliveryStatus.FAILED),
    "81": ("the request is out of the account's limits", True, DeliveryStatus.REJECTED),
    "90": ("JetSMS system error", False, ""),
}
# HttpSmsReport MessageState (§2.2), also used for SOAP ReportSMS's Status
STATES = {
    "1": DeliveryStatus.DELIVERED,
    "0": DeliveryStatus.SENT,
    "2": DeliveryStatus.SENT,
    "6": DeliveryStatus.SENT,
    "7": DeliveryStatus.SENT,
    "8": DeliveryStatus.SENT,
    "3": DeliveryStatus.UNDELIVERED,
    "9": DeliveryStatus.UNDELIVERED,
    "4": DeliveryStatus.EXPIRED,
    "-1": DeliveryStatus.FAILED,
}
ALL_STATES = "5"


class JetSmsForm(SmsAccountForm):
    xml_url = forms.URLField(label=_("XML send URL"), initial=DEFAULT_XML_URL, assume_scheme="https")
    soap_url = forms.URLField(
        label=_("SOAP URL (reports)"),
        initial=DEFAULT_SOAP_URL,
        assume_scheme="https",
        help_text=_("JetSMS has no delivery webhook: reports are fetched from this address every few minutes."),
    )
    username = forms.CharField(label=_("User name"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False))


class JetSmsConnector(MessagingConnector):
    name = "jetsms"
    label = _("JetSMS (Biotekno)")
    channel = Channel.SMS
    config_form = JetSmsForm
    secret_fields = ("password",)
    max_batch = 500
    idempotent = False
    polls_reports = True
    latin5 = True

    @property
    def xml_url(self) -> str:
        return self.settings.get("xml_url") or DEFAULT_XML_URL

    @property
    def soap_url(self) -> str:
        return self.settings.get("soap_url") or DEFAULT_SOAP_URL

    def _auth_xml(self) -> str:
        return (
            f"<username>{escape(self.settings.get('username', ''))}</username>"
            f"<password>{escape(self.credentials.get('password', ''))}</password>"
        )

    # --- sending --------------------------------------------------------------------------

    def send_batch(self, messages: list[OutboundMessage], *, webhook_url: str = "") -> list[SendResult]:
        results: list[SendResult] = []
        by_sender: dict[str, list[OutboundMessage]] = {}
        for m in messages:
            if m.to.startswith("+90") and len(m.to) == 13:
                by_sender.setdefault(m.sender, []).append(m)
            else:
                results.append(
                    SendResult(key=m.key, status=DeliveryStatus.REJECTED, error="JetSMS sends to Turkish numbers only")
                )
        session = requests.Session()
        session.headers["Content-Type"] = "text/xml; charset=utf-8"
        for sender, group in by_sender.items():
            response = post(session, self.xml_url, data=self._send_body(sender, group).encode("utf-8"))
            if response.status_code == 429:  # nothing was taken: safe to send again later
                raise SendError("JetSMS: too many requests", code="429", retry_after=retry_after(response, 30))
            if response.status_code >= 500:
                raise SendError(
                    f"JetSMS server error {response.status_code}", code=str(response.status_code), maybe_sent=True
                )
            code, _sep, rest = response.content.decode("utf-8", "replace").strip().partition(" ")
            if response.status_code == 200 and code == "00" and rest.strip():
                group_id = rest.strip().split()[0]
                results.extend(
                    SendResult(
                        key=m.key,
                        status=DeliveryStatus.QUEUED,
                        provider_id=f"{group_id}/{m.to[3:]}",
                        raw_status=f"00 group {group_id}",
                    )
                    for m in group
                )
                continue
            text, permanent, status = ERRORS.get(
                code, (f"unexpected answer {code!r} (HTTP {response.status_code})", True, "")
            )
            if not permanent:
                raise SendError(f"JetSMS: {text} (code {code})", code=code, retry_after=30)
            if status == DeliveryStatus.REJECTED:  # this request's content: its messages are refused
                results.extend(
                    SendResult(key=m.key, status=status, raw_status=f"code {code}", error=f"JetSMS: {text}")
                    for m in group
                )
                continue
            raise SendError(
                f"JetSMS: {text} (code {code})", permanent=True, code=code, status=status or DeliveryStatus.FAILED
            )
        return results

    def _send_body(self, sender: str, group: list[OutboundMessage]) -> str:
        head = (
            f"{self._auth_xml()}<outbox-name>{escape(sender)}</outbox-name><reference></reference>"
            "<start-date></start-date><expire-date></expire-date><message-header></message-header>"
        )
        texts = {m.text for m in group}
        if len(texts) == 1:
            numbers = ",".join(m.to[3:] for m in group)
            body = f'<message-context type="smmgsd">{head}<text>{escape(texts.pop())}</text><gsmnos>{numbers}</gsmnos>'
        else:
            items = "".join(f"<message><gsmno>{m.to[3:]}</gsmno><text>{escape(m.text)}</text></message>" for m in group)
            body = f'<message-context type="mmmgsd">{head}{items}'
        return f'<?xml version="1.0" encoding="utf-8"?>\n{body}</message-context>'

    # --- reports (SOAP) -------------------------------------------------------------------

    def _soap(self, operation: str, fields: dict[str, str]) -> ET.Element:
        """Call a SOAP 1.1 operation; return its `<Operation>Result` element."""
        inner = f"<user>{escape(self.settings.get('username', ''))}</user>"
        inner += f"<password>{escape(self.credentials.get('password', ''))}</password>"
        inner += "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
        envelope = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<soap:Envelope xmlns:soap="{ENVELOPE_NS}"><soap:Body>'
            f'<{operation} xmlns="{SOAP_NS}">{inner}</{operation}></soap:Body></soap:Envelope>'
        )
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_NS}{operation}"'}
        try:
            response = requests.post(
                self.soap_url, data=envelope.encode("utf-8"), headers=headers, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        except requests.RequestException as exc:
            raise TransportError(f"could not reach JetSMS: {exc}") from None
        try:
            root = SafeET.fromstring(response.content)
        except (ET.ParseError, DefusedXmlException):
            raise TransportError(f"JetSMS answered HTTP {response.status_code} with no SOAP body") from None
        fault = root.find(f".//{{{ENVELOPE_NS}}}Fault")
        if fault is not None:
            raise TransportError(f"JetSMS: {(fault.findtext('faultstring') or 'SOAP fault').strip()}", permanent=True)
        result = root.find(f".//{{{SOAP_NS}}}{operation}Result")
        if result is None:
            raise TransportError(f"JetSMS answered HTTP {response.status_code} without {operation}Result")
        return result

    def poll_reports(self, *, messages: list[tuple[str, str]]) -> list[DeliveryReport]:
        wanted = {provider_id for _key, provider_id in messages if "/" in provider_id}
        reports = []
        for group_id in sorted({provider_id.split("/")[0] for provider_id in wanted}):
            result = self._soap("ReportSMS", {"groupid": group_id, "status": ALL_STATES})
            for row in result:
                phone = _field(row, "Phone")
                phone = phone[2:] if len(phone) == 12 and phone.startswith("90") else phone
                provider_id = f"{group_id}/{phone}"
                if provider_id not in wanted:
                    continue
                state = _field(row, "Status")
                reports.append(
                    DeliveryReport(
                        provider_id=provider_id,
                        status=STATES.get(state, DeliveryStatus.SENT),
                        raw_status=f"state {state}",
                    )
                )
        return reports

    def test_connection(self) -> CheckResult:
        try:
            result = self._soap("GetSMSCredit", {})
        except TransportError as exc:
            return CheckResult(ok=False, message=str(exc))
        value = (result.text or "").strip()
        code = _field(result, "ErrorCode") or value
        if code in ERRORS:
            return CheckResult(ok=False, message=f"JetSMS: {ERRORS[code][0]}")
        credit = _field(result, "Credit") or value
        return CheckResult(ok=True, message=f"JetSMS accepted the credentials; credit left: {credit or 'unknown'}")


def _field(element: ET.Element, name: str) -> str:
    """The text of a child element, whatever its namespace."""
    for child in element:
        if child.tag.rsplit("}", 1)[-1] == name:
            return (child.text or "").strip()
    return ""
