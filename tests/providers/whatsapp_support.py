"""Shared by the WhatsApp connector tests: a template with every part, a connector on the fake, a
template message, and the webhooks a sink took, verified."""

from __future__ import annotations

import time

from providers.base import OutboundMessage
from providers.whatsapp import WhatsAppConnector
from providers.whatsapp.templates import send_components
from tests.fakes.whatsapp import FakeWhatsApp

ORDER_COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Siparişiniz {{1}}", "example": {"header_text": ["#123"]}},
    {
        "type": "BODY",
        "text": "Merhaba {{1}}, siparişiniz {{2}} tarihinde yola çıktı.",
        "example": {"body_text": [["Ayşe", "1 Mayıs"]]},
    },
    {"type": "FOOTER", "text": "Bildirimleri durdurmak için butona dokunun"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Durdur"},
            {"type": "URL", "text": "Takip et", "url": "https://ex.com/t/{{1}}", "example": ["ORDER123"]},
        ],
    },
]


def make_connector(fake: FakeWhatsApp, **overrides) -> WhatsAppConnector:
    settings = {
        "base_url": fake.url,
        "api_version": "v23.0",
        "waba_id": fake.waba_id,
        "phone_number_id": fake.phone_number_id,
        "rate_limit": 80,
        "verify_token": "verify-me",
    }
    credentials = {"access_token": fake.access_token, "app_secret": fake.app_secret}
    for key, value in overrides.items():
        (credentials if key in credentials else settings)[key] = value
    return WhatsAppConnector(settings=settings, credentials=credentials)


def template_message(key: str, to: str, *, name="order_update", body=("Ayşe", "1 Mayıs"), **extra) -> OutboundMessage:
    components = send_components(header=["#123"], body=body, buttons=[("url", 1, "ORDER123")])
    return OutboundMessage(
        key=key,
        to=to,
        text="",
        sender="",
        commercial=True,
        template_name=name,
        template_language="tr",
        template_components=extra.pop("components", components),
    )


def received_events(connector, sink, count: int = 1, timeout: float = 5.0):
    """The events of the webhooks the sink took, each verified as our webhook view would."""
    deadline = time.monotonic() + timeout
    while len(sink.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sink.received) >= count, f"only {len(sink.received)} webhook(s) arrived"
    events = []
    for request in sink.received:
        assert connector.verify_webhook(body=request["body"], headers=request["headers"])
        events.append(connector.parse_webhook(body=request["body"], headers=request["headers"]))
    return events
