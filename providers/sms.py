"""What every SMS connector shares: the common settings form and HTTP plumbing."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django import forms
from django.utils.translation import gettext_lazy as _

from providers.base import SendError

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30


SENDER_MAX = 11
_SENDER_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-_&+")


def sender_problem(sender: str) -> str:
    """'' when `sender` is a valid sender name (providers.md §7.7), else why not, in plain words."""
    if not sender or not sender.strip():
        return "the sender name is empty"
    if sender.isdigit() and len(sender) <= 15:
        return ""  # a numeric sender: a phone number (E.164 digits) or a short code
    if len(sender) > SENDER_MAX:
        return f"the sender name has {len(sender)} characters; at most {SENDER_MAX} are allowed"
    bad = sorted({c for c in sender if c not in _SENDER_ALLOWED})
    if bad:
        return "the sender name may hold only Latin letters, digits, spaces and . - _ & + (not: " + " ".join(bad) + ")"
    if not any(c.isalpha() for c in sender):
        return "the sender name must contain at least one letter"
    return ""


class SmsAccountForm(forms.Form):
    sender = forms.CharField(
        label=_("Default sender name"),
        max_length=15,
        required=False,
        help_text=_("At most 11 characters; it must be registered with the provider."),
    )
    rate_limit = forms.IntegerField(
        label=_("Rate limit (messages per second)"),
        min_value=0,
        required=False,
        initial=0,
        help_text=_("Held across all workers; 0 or empty: as fast as the provider accepts."),
    )
    price_per_segment = forms.DecimalField(
        label=_("Price per SMS segment"),
        min_value=0,
        max_digits=10,
        decimal_places=5,
        required=False,
        help_text=_("Used for the cost estimate in campaign previews."),
    )

    def clean_sender(self):
        sender = self.cleaned_data.get("sender") or ""
        if sender and (problem := sender_problem(sender)):
            raise forms.ValidationError(problem)
        return sender


def post(session: requests.Session, url: str, **kwargs) -> requests.Response:
    """POST with the retry semantics of providers.md §0.2: a failure before the request was
    written is safe to retry; a read timeout may have sent it."""
    try:
        return session.post(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), **kwargs)
    except requests.exceptions.ConnectTimeout:
        raise SendError(f"could not connect to the provider at {host_of(url)} in time") from None
    except requests.exceptions.ConnectionError as exc:
        raise SendError(
            f"could not reach the provider at {host_of(url)}: {connection_problem(exc)}", maybe_sent=True
        ) from None
    except requests.exceptions.ReadTimeout:
        raise SendError("the provider did not answer in time", maybe_sent=True) from None


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def connection_problem(exc: requests.exceptions.ConnectionError) -> str:
    """The reason in words, not urllib3's nested exception text."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return "its certificate was not accepted"
    if "Connection refused" in text:
        return "nothing answers at that address (connection refused)"
    if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
        return "that host name is not known"
    if "reset by peer" in text or "RemoteDisconnected" in text or "aborted" in text:
        return "the connection was closed before an answer"
    return "the connection failed"


def retry_after(response: requests.Response, default: float = 5.0) -> float:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default
