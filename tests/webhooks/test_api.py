"""POST/GET/DELETE /api/v1/webhooks/: the contract, the scope, and the URLs refused."""

import pytest

from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def test_register_list_and_remove(api, endpoint):
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["events"] == ["message.status", "consent.changed", "message.inbound"]
    listed = api.get("/api/v1/webhooks/").json()
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]  # shown once, when made (and to admins in the panel)
    assert Endpoint.objects.get().api_key.name == "tests"
    assert api.delete(f"/api/v1/webhooks/{endpoint['id']}/").status_code == 204
    assert api.get("/api/v1/webhooks/").json() == []
    assert api.delete(f"/api/v1/webhooks/{endpoint['id']}/").status_code == 404


def test_the_webhooks_scope_is_needed(make_client, receiver):
    client = make_client("messages")
    response = client.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["message.status"]})
    assert response.status_code == 403
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert Endpoint.objects.count() == 0


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"url": "https://example.com/h", "events": []}, "events", "at least"),
        ({"url": "https://example.com/h", "events": ["message.sent"]}, "events", "not a valid choice"),
        ({"url": "ftp://example.com/h", "events": ["message.status"]}, "url", "not a valid http(s) URL"),
        ({"url": "https://u:p@example.com/h", "events": ["message.status"]}, "url", "user name or password"),
        ({"events": ["message.status"]}, "url", "required"),
    ],
)
def test_bad_registrations_say_what_is_wrong(api, body, field, words):
    response = api.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert words in " ".join(m for name, ms in errors.items() if name.split(".")[0] == field for m in ms)
    assert Endpoint.objects.count() == 0


def test_plain_http_and_the_panels_own_network_are_refused_in_production(api, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    response = api.post("/api/v1/webhooks/", {"url": "http://example.com/h", "events": ["message.status"]})
    assert response.status_code == 400 and "use https://" in response.json()["errors"]["url"][0]
    for url in ("https://127.0.0.1/h", "https://[::1]/h", "https://169.254.169.254/latest", "https://10.1.2.3/h"):
        response = api.post("/api/v1/webhooks/", {"url": url, "events": ["message.status"]})
        assert response.status_code == 400, url
        assert "private, loopback or reserved" in response.json()["errors"]["url"][0]
    assert Endpoint.objects.count() == 0


def test_removing_an_endpoint_drops_its_queued_deliveries(api, endpoint):
    Delivery.objects.create(endpoint_id=endpoint["id"], event_id="msg_x", event_type="message.status", payload={})
    api.delete(f"/api/v1/webhooks/{endpoint['id']}/")
    assert Delivery.objects.count() == 0
