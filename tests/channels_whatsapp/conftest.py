# The fake Cloud API and its webhook sink, as the connector's tests use them (defined once there).
from tests.providers.conftest import fake, sink  # noqa: F401
