import pytest
from django.core.cache import cache

from tests.fakes.iys import FakeIys


@pytest.fixture
def fake_iys():
    """A fake İYS for brand 700100; the token cache is cleared around it (tokens are per server)."""
    cache.clear()
    fake = FakeIys(iys_code=700100, brands=(700100,)).start()
    yield fake
    fake.stop()
    cache.clear()
