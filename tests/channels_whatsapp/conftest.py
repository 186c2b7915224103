import pytest

from providers.services import account_install
from tests.fakes.whatsapp import FakeWhatsApp

# The fake Cloud API and its webhook sink, as the connector's tests use them (defined once there).
from tests.providers.conftest import fake, sink  # noqa: F401


@pytest.fixture
def meta(live_server):
    """The fake Cloud API for tests that go through the panel's own webhook view (live_server)."""
    server = FakeWhatsApp().start()
    yield server
    server.stop()


@pytest.fixture
def account(meta, live_server):
    """A WhatsApp account on `meta`, its webhooks posted to the live server (marketing at 0.5)."""
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": meta.url, "waba_id": meta.waba_id, "phone_number_id": meta.phone_number_id,
                "access_token": meta.access_token, "app_secret": meta.app_secret, "price_marketing": "0.5"},
    )  # fmt: skip
    meta.callback_url = f"{live_server.url}/hooks/whatsapp/{account.webhook_secret}/"
    return account
