"""The API pages in Chromium, in English and Turkish at 1366 px: an admin makes a key on the real
add page and sees it once; the interactive docs load from the panel's own files (the
Content-Security-Policy blocks nothing) and list every endpoint.
SCREENSHOTS_DIR=/tmp/shots saves each page (api-*-en.png, api-*-tr.png)."""

import os
from pathlib import Path

import pytest

from api.models import ApiKey
from tests.browser.conftest import LANGUAGES, signed_in
from webhooks.models import Attempt, Delivery, Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


@pytest.fixture
def page(browser, live_server, panel_admin, lang):
    with signed_in(browser, live_server, lang=lang, username="panel-admin", password="admin-pass-123") as page:
        yield page


def shot(page, name: str, lang: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"api-{name}-{lang}.png"), full_page=True)


def blocked(page) -> list[str]:
    return page.evaluate("() => window.__cspViolations") + [
        line for line in page.console_lines if "Content Security Policy" in line
    ]


def test_an_admin_makes_a_key_and_sees_it_once(page, live_server, lang):
    page.goto(f"{live_server.url}/admin/api/apikey/add/")
    page.fill("#id_name", "crm")
    page.check("input[name=scope_choices][value=contacts]")
    page.check("input[name=scope_choices][value=messages]")
    shot(page, "key-add", lang)
    page.click("input[name=_save]")
    key = page.input_value("#new-api-key")
    api_key = ApiKey.objects.get()
    assert key.startswith(api_key.prefix + ".")
    assert api_key.scopes == ["contacts", "messages"]
    shot(page, "key-created", lang)
    page.goto(f"{live_server.url}/admin/api/apikey/")
    assert "crm" in page.content() and key not in page.content()
    shot(page, "keys", lang)
    assert blocked(page) == [], blocked(page)


def test_the_docs_show_every_endpoint_from_the_panels_own_files(page, live_server, lang):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("text=/api/v1/messages/")
    for path in ("/api/v1/contacts/", "/api/v1/consents/", "/api/v1/events/", "/api/v1/campaigns/{campaign_id}/stats/",
                 "/api/v1/webhooks/"):  # fmt: skip
        assert page.locator(f"text={path}").first.is_visible()
    assert all(url.startswith(live_server.url) for url in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    shot(page, "docs", lang)
    assert blocked(page) == [], blocked(page)


def test_an_admin_registers_a_webhook_endpoint_and_reads_its_attempts(page, live_server, lang, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    page.goto(f"{live_server.url}/admin/webhooks/endpoint/add/")
    page.fill("#id_url", "https://crm.example.com/hooks/panel")
    page.check("input[name=event_choices][value='message.status']")
    page.check("input[name=event_choices][value='consent.changed']")
    page.fill("#id_description", "CRM")
    shot(page, "endpoint-add", lang)
    page.click("input[name=_save]")
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["message.status", "consent.changed"]
    page.goto(f"{live_server.url}/admin/webhooks/endpoint/{endpoint.pk}/change/")
    assert endpoint.secret in page.content()
    shot(page, "endpoint", lang)
    delivery = Delivery.objects.create(
        endpoint=endpoint, event_id="msg_0123", event_type="message.status", payload={"message_id": 7},
        status="pending", attempts=1, last_status_code=500, last_error="the endpoint answered HTTP 500",
    )  # fmt: skip
    Attempt.objects.create(delivery=delivery, at=delivery.created_at, status_code=500,
                           error="the endpoint answered HTTP 500", duration_ms=41)  # fmt: skip
    page.goto(f"{live_server.url}/admin/webhooks/delivery/")
    assert "msg_0123" in page.content()
    shot(page, "deliveries", lang)
    page.goto(f"{live_server.url}/admin/webhooks/delivery/{delivery.pk}/change/")
    assert "the endpoint answered HTTP 500" in page.content()
    shot(page, "delivery", lang)
    assert blocked(page) == [], blocked(page)
