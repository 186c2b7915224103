"""The audience builder in Chromium, in English and Turkish: a marketer adds conditions with the
selects (nobody types JSON), picks a value seen, the count follows each change, the segment is
saved and a campaign is aimed at it. The Content-Security-Policy blocks nothing.
SCREENSHOTS_DIR=/tmp/shots saves the pages at 1366 px (segment-*-en.png, segment-*-tr.png)."""

import os
from pathlib import Path

import pytest

from contacts.models import Contact
from messaging.models import Segment
from tests.browser.conftest import LANGUAGES, signed_in
from tests.browser.test_whatsapp_admin import policy_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


def shot(page, name, lang):
    assert policy_problems(page) == [], name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"segment-{name}-{lang}.png"), full_page=True)


def count_is(page, n: int):
    page.wait_for_function(
        "(n) => (document.querySelector('.segment-count').textContent.match(/\\d+/) || [])[0] === String(n)", arg=n
    )


def test_a_marketer_builds_a_segment_with_the_selects_and_the_count_follows(browser, live_server, marketer, lang):
    for n, (city, subscription) in enumerate(
        [("İzmir", "subscribed"), ("İzmir", "not_subscribed"), ("Ankara", "subscribed"), ("İzmir", "subscribed")]
    ):
        Contact.objects.create(
            external_id=f"c{n}", phone=f"+9053200000{n:02d}", attributes={"city": city}, sms_subscription=subscription
        )
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/messaging/segment/add/")
        count_is(page, 4)  # no condition: every contact
        page.fill("#id_name", "İzmir aboneleri")
        page.click(".segment-add")
        first = page.locator(".segment-conditions li.condition").nth(0)
        first.locator("input.name").fill("city")
        first.locator("input.name").dispatch_event("change")
        page.locator(".segment-conditions li.condition").nth(0).locator(".seen button", has_text="İzmir").click()
        count_is(page, 3)
        page.click(".segment-add")
        second = page.locator(".segment-conditions li.condition").nth(1)
        second.locator("select.type").select_option("choice")
        second = page.locator(".segment-conditions li.condition").nth(1)
        second.locator("select.field").select_option("sms_subscription")
        page.locator(".segment-conditions li.condition").nth(1).locator("select.value").select_option("subscribed")
        count_is(page, 2)
        page.select_option(".segment-match-choice", "any")
        count_is(page, 4)
        page.select_option(".segment-match-choice", "all")
        count_is(page, 2)
        shot(page, "builder", lang)
        page.click("input[name=_save]")
        page.wait_for_url("**/segment/")
        segment = Segment.objects.get()
        assert segment.definition["match"] == "all" and len(segment.definition["conditions"]) == 2

        page.goto(f"{live_server.url}/admin/channels_sms/smscampaign/add/")
        assert not page.locator(".field-segment").is_visible()
        page.select_option("#id_audience", "segment")
        assert page.locator(".field-segment").is_visible() and not page.locator(".field-contact_list").is_visible()
        assert "İzmir aboneleri" in page.locator("#id_segment").inner_text()
        shot(page, "campaign-form", lang)
