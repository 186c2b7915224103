import pytest

from tests.api.conftest import api, infobip, make_client, sms_account  # noqa: F401  (shared fixtures)


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1 over plain http: allowed here as the embedded default allows it."""
    from tests.fakes.webhook_receiver import WebhookReceiver

    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    fake = WebhookReceiver().start()
    yield fake
    fake.stop()


@pytest.fixture
def endpoint(api, receiver):  # noqa: F811  (the imported fixture)
    """An endpoint for every event, registered through the API; the receiver knows its secret."""
    response = api.post(
        "/api/v1/webhooks/",
        {"url": f"{receiver.url}/hooks", "events": ["message.status", "consent.changed", "message.inbound"]},
    )
    assert response.status_code == 201, response.json()
    receiver.secret = response.json()["secret"]
    return response.json()
