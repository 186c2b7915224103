import pytest

from providers.whatsapp import WhatsAppConnector
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


@pytest.fixture
def connector(fake):
    from tests.providers.whatsapp_support import make_connector

    return make_connector(fake)


@pytest.fixture
def parser():
    """A connector for what needs no server: signatures, the handshake, parsing bodies."""
    settings = {"waba_id": "1", "phone_number_id": "2", "verify_token": "verify-me"}
    return WhatsAppConnector(settings=settings, credentials={"access_token": "x", "app_secret": "test-app-secret"})
