import pytest

from providers.services import account_install
from tests.fakes.infobip import FakeInfobip


@pytest.fixture
def infobip():
    fake = FakeInfobip().start()
    yield fake
    fake.stop()


@pytest.fixture
def infobip_account(infobip):
    return account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "price_per_segment": "0.02"},
    )


@pytest.fixture
def iys_sync(db):
    from providers.models import ProviderAccount

    return ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
