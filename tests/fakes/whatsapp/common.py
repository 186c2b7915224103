"""What the fake Cloud API's parts share: magic recipients, Graph's error shape, the quick server."""

from __future__ import annotations

import base64
import re
import threading

from tests.fakes.base import FakeServer

# magic recipients by the end of the number
ASYNC_FAILURES = {  # accepted (200), then a `failed` status webhook with this code
    "0026": (131026, "Message undeliverable", "Message Undeliverable."),
    "0047": (
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied.",
    ),
    "0049": (
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    "0472": (130472, "User's number is part of an experiment", "Failed to send message because of an experiment."),
    "0050": (
        131050,
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages.",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on "
        "WhatsApp from your business.",
    ),
}
SYNC_FAILURES = {  # refused at once with this Graph error
    "0429": (130429, "Rate limit hit", "Cloud API message throughput has been reached.", True),
    "0056": (131056, "(Business Account, Consumer Account) pair rate limit hit", "", True),
    "0048": (131048, "Spam rate limit hit", "Message failed to send because there are restrictions.", False),
    "0064": (131064, "Messaging limit reached", "Template classification violations.", False),
}
ACCEPT_THEN_500 = "0500"  # accepted and recorded, then answered 500 (the outcome looks unknown)
ACCEPT_THEN_CUT = "0502"  # accepted and recorded, then the connection closed without an answer
SILENT = "0009"  # accepted, no status webhook ever
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
WINDOW = 24 * 3600


class _QuickServer(FakeServer):
    def _serve(self, handler_class) -> None:
        super()._serve(handler_class)
        # stop() waits for the serve loop's poll; a short poll keeps each test's teardown short
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _error(
    code: int,
    message: str,
    details: str = "",
    *,
    subcode: int | None = None,
    transient: bool = False,
    kind: str = "OAuthException",
) -> dict:
    error: dict = {
        "message": f"(#{code}) {message}",
        "type": kind,
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


# --- Resumable Upload API and the samples it takes -------------------------------------------------
CUT = "cut"  # an upload answer: drop the connection without answering
UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
MEDIA_TYPES = {
    "IMAGE": ("image/jpeg", "image/jpg", "image/png"),
    "VIDEO": ("video/mp4",),
    "DOCUMENT": ("application/pdf",),
}


def _bearer(headers, scheme: str) -> str:
    """The token of an `Authorization: <scheme> <token>` header, "" for none or another scheme."""
    given, _space, token = (headers.get("Authorization") or "").partition(" ")
    return token if given == scheme else ""
