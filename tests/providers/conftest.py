import pytest

from tests.fakes.whatsapp import FakeWhatsApp, WebhookSink


@pytest.fixture
def sink():
    """Stands in for the panel's callback URL: records what the fake WhatsApp posts."""
    server = WebhookSink().start()
    yield server
    server.stop()


@pytest.fixture
def fake(sink):
    """The fake Cloud API, posting its webhooks to `sink`."""
    server = FakeWhatsApp(callback_url=sink.url).start()
    yield server
    server.stop()
