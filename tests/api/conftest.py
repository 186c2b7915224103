import pytest
from rest_framework.test import APIClient

from api.models import Scope
from api.services import api_key_create


@pytest.fixture
def make_client(db):
    """make_client("contacts", "consents") → an APIClient carrying a fresh key with those scopes."""

    def make(*scopes: str, name: str = "tests") -> APIClient:
        api_key, key = api_key_create(name=name, scopes=list(scopes) or list(Scope.values))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        client.api_key = api_key
        return client

    return make


@pytest.fixture
def api(make_client) -> APIClient:
    """A client whose key has every scope."""
    return make_client()


@pytest.fixture
def infobip():
    from tests.fakes.infobip import FakeInfobip

    fake = FakeInfobip().start()
    yield fake
    fake.stop()


@pytest.fixture
def sms_account(infobip):
    from providers.services import account_install

    return account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "price_per_segment": "0.02"},
    )
