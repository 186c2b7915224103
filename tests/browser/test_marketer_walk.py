"""issue 15, Done when: the marketer's main path in Chromium at 1366 px, in English and Turkish:
upload contacts and their consents → build a segment → write a template → make a campaign →
preview → confirm → message history and the dashboard. The walk fails if any page it visits
answers 5xx, if the Content-Security-Policy blocks anything, or (in Turkish) if a page shows a
string of the app's catalogue untranslated. SCREENSHOTS_DIR=/tmp/shots keeps walk-*-{en,tr}.png."""

import gettext
import os
import re
from pathlib import Path

import pytest

from messaging.models import Campaign, Message
from providers.services import account_install
from tests.browser.conftest import LANGUAGES, signed_in
from tests.browser.test_whatsapp_admin import policy_problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def catalogue_strings() -> set[str]:
    """English strings of our catalogue a Turkish page must not show: whole sentences or labels
    (no placeholders), translated to something else."""
    with open(ROOT / "locale" / "tr" / "LC_MESSAGES" / "django.mo", "rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog
    found = set()
    for msgid, msgstr in catalogue.items():
        if not isinstance(msgid, str) or "\x04" in msgid or not msgid:
            continue  # plurals are (msgid, n) keys; contexts carry \x04
        if "%" in msgid or "{" in msgid or "<" in msgid or msgstr.strip() == msgid.strip():
            continue
        if len(msgid) >= 14 and " " in msgid and re.search(r"[a-z]", msgid):
            found.add(msgid)
    return found


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


@pytest.fixture
def consents_file(tmp_path):
    path = tmp_path / "izinler.txt"
    path.write_text(
        "905321000001;web;ONAY;15.05.2025 14:23:00\n905321000002;web;ONAY;15.05.2025 14:23:00\n", encoding="utf-8"
    )
    return path


class Walk:
    def __init__(self, page, live_server, lang):
        self.page, self.base, self.lang = page, live_server.url, lang
        self.errors: list[str] = []
        self.english = catalogue_strings() if lang == "tr" else set()
        page.on("response", lambda r: r.status >= 500 and self.errors.append(f"{r.status} {r.url}"))

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        assert self.errors == [], self.errors
        assert policy_problems(page) == [], name
        if self.english:
            text = page.inner_text("body")
            untranslated = sorted(s for s in self.english if s in text)
            assert untranslated == [], f"{name}: {untranslated}"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"walk-{name}-{self.lang}.png"), full_page=True)

    def go(self, path: str, name: str) -> None:
        self.page.goto(self.base + path)
        self.check(name)


def test_the_marketers_main_path(browser, live_server, marketer, lang, consents_file):
    account_install(name="Console", connector="console", values={"sender": "MARKA", "price_per_segment": "0.25"})
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        walk = Walk(page, live_server, lang)
        walk.check("dashboard")

        # contacts from a file, the bad rows listed, the good ones kept
        walk.go("/admin/contacts/contact/import/", "import")
        page.set_input_files("#id_import_file", str(DATA / "contacts_mixed.csv"))
        page.select_option("#id_format", index=1)
        page.click("input[type=submit]")
        page.locator("ul.import-rejected li").first.wait_for()
        walk.check("import-preview")
        page.click("input[name=confirm]")
        page.locator(".import-done").wait_for()
        walk.check("import-done")

        # their consents, as İYS has them
        walk.go("/admin/contacts/filetransfer/add/", "consents-upload")
        page.fill("#id_name", "Mayıs izinleri")
        page.select_option("#id_kind", "sms-iys")
        page.set_input_files("#id_file", str(consents_file))
        page.click("input[name=_save]")
        page.wait_for_url("**/contacts/filetransfer/")
        row = page.locator("#result_list tbody tr").first
        row.locator("[data-field=progress]").wait_for()
        page.wait_for_function(
            "() => document.querySelector('#result_list [data-field=progress]').style.width === '100%'"
        )
        walk.check("consents-done")

        # a segment: the contacts in İzmir
        walk.go("/admin/messaging/segment/add/", "segment")
        page.fill("#id_name", "İzmir")
        page.click(".segment-add")
        condition = page.locator(".segment-conditions li.condition").nth(0)
        condition.locator("input.name").fill("city")
        condition.locator("input.name").dispatch_event("change")
        page.locator(".segment-conditions li.condition").nth(0).locator(".seen button", has_text="İzmir").click()
        page.wait_for_function(
            "() => (document.querySelector('.segment-count').textContent.match(/\\d+/) || [])[0] === '1'"
        )
        walk.check("segment-built")
        page.click("input[name=_save]")
        page.wait_for_url("**/segment/")
        walk.check("segments")

        # a template, counted for a sample contact
        walk.go("/admin/channels_sms/smstemplate/add/", "template")
        page.fill("#id_name", "İzmir indirimi")
        page.fill("#id_text", "Merhaba {{name|dostum}}, İzmir mağazamızda kasım indirimi başladı!")
        page.locator(".sms-counter .counter-sample").wait_for()
        walk.check("template-counted")
        page.click("input[name=_save]")
        page.wait_for_url("**/smstemplate/")

        # the campaign, aimed at the segment
        walk.go("/admin/channels_sms/smscampaign/add/", "campaign")
        page.fill("#id_name", "Kasım İzmir")
        page.select_option("#id_kind", "newsletter")
        page.select_option("#id_account", label="Console")
        page.select_option("#id_template", label="İzmir indirimi")
        page.select_option("#id_audience", "segment")
        page.select_option("#id_segment", label="İzmir")
        walk.check("campaign-filled")
        page.click("input[name=_save]")
        page.wait_for_url("**/preview/")
        walk.check("preview")
        page.click("#start-campaign")
        page.wait_for_url("**/confirm/")
        question = page.locator("#content").inner_text()
        assert "1" in question and "TRY" in question
        walk.check("confirm")
        page.click("#confirm-send")
        page.wait_for_load_state("load")
        walk.check("started")

        campaign = Campaign.objects.get(name="Kasım İzmir")
        assert Message.objects.filter(campaign=campaign).count() == 1
        walk.go("/admin/messaging/message/", "history")
        assert page.locator("#result_list tbody tr").count() == 1
        walk.go("/admin/", "dashboard-after")
