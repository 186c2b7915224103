"""The journey builder in Chromium, in English and Turkish: a marketer creates a journey, adds
"SMS → wait for delivery → not delivered: WhatsApp" with the step forms (each kind shows its own
fields; nobody types JSON), sees it drawn as a diagram with its branches joined by lines, and
activates it; contacts entering show as counts on the diagram. The Content-Security-Policy blocks
nothing. SCREENSHOTS_DIR=/tmp/shots saves the pages at 1366 px (journey-*-en.png, journey-*-tr.png)."""

import os
from pathlib import Path

import pytest

from contacts.models import ContactList
from contacts.services import contact_list_add
from journeys.models import Journey
from tests.browser.conftest import LANGUAGES, signed_in
from tests.browser.test_whatsapp_admin import policy_problems
from tests.journeys.conftest import accounts, contact, infobip, meta, sms_account, wa_account  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


def shot(page, name, lang):
    assert policy_problems(page) == [], name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"journey-{name}-{lang}.png"), full_page=True)


def visible(page, field: str) -> bool:
    return page.locator(f".field-{field}").is_visible()


def test_a_marketer_draws_the_fallback_journey(browser, live_server, marketer, accounts, lang):  # noqa: F811
    members = ContactList.objects.create(name="Yeni üyeler")
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/journeys/journey/add/")
        page.fill("#id_name", "Hoş geldin")
        page.check("input[name=entry][value=event]")
        assert visible(page, "entry_event") and not visible(page, "entry_list")  # the chosen entry's fields only
        page.check("input[name=entry][value=list]")
        assert visible(page, "entry_list") and not visible(page, "entry_event")
        page.select_option("#id_entry_list", str(members.pk))
        page.click("input[name=_save]")
        page.wait_for_selector(".jd-empty")
        journey = Journey.objects.get(name="Hoş geldin")

        page.click(".jd-empty a.button")
        assert visible(page, "text") and not visible(page, "whatsapp_template") and not visible(page, "of")
        page.fill("#id_step_id", "sms")
        page.fill("#id_text", "Merhaba {{name|Müşterimiz}}")
        shot(page, "step", lang)
        page.click(".submit-row input[type=submit]")
        page.wait_for_selector("#jd-sms")

        page.click("#jd-sms .jd-branch-next a.jd-add")
        page.select_option("#id_type", "wait_delivery")
        assert visible(page, "of") and visible(page, "amount") and not visible(page, "text")
        page.fill("#id_step_id", "wait")
        page.fill("#id_amount", "1")
        page.select_option("#id_unit", "60")
        page.click(".submit-row input[type=submit]")
        page.wait_for_selector("#jd-wait")

        page.click("#jd-wait .jd-branch-not_delivered a.jd-add")
        page.select_option("#id_type", "send_whatsapp")
        assert visible(page, "whatsapp_template") and not visible(page, "text")
        page.fill("#id_step_id", "whatsapp")
        page.select_option("#id_whatsapp_template", index=1)
        page.click(".submit-row input[type=submit]")
        page.wait_for_selector("#jd-whatsapp")

        # drawn: the entry joined to the first step, each branch that goes somewhere to its step
        assert page.locator(".jd-lines path").count() == 3
        assert page.locator(".jd-row").count() == 4  # the entry, then a layer per step
        page.click("form[action$='/act/activate/'] button")
        page.wait_for_selector(".journey-badge.journey-active")
        contact_list_add(contact_list=members, contact_ids=[contact("+905320000005").pk])  # eager: runs at once
        page.reload()
        assert page.locator("#jd-sms .jd-passed").get_attribute("data-n") == "1"
        assert page.locator("#jd-sms .jd-branch-next .jd-n").get_attribute("data-n") == "1"
        assert page.locator("#jd-wait .jd-here").get_attribute("data-n") == "1"  # waiting for its delivery
        shot(page, "diagram", lang)
    journey.refresh_from_db()
    assert journey.status == "active" and set(journey.version.definition["steps"]) == {"sms", "wait", "whatsapp"}
