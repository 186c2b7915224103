"""The contacts pages in Chromium at 1366 px, in English and Turkish: the contacts list searched by a
05xx phone and by a name keeps its key columns in view; a contact's page shows its timeline; the
profile attributes editor adds and removes rows and saves them; a list's page shows its members and
leads to its contacts. The Content-Security-Policy blocks nothing.
SCREENSHOTS_DIR=/tmp/shots saves the pages (contacts-*-en.png, contacts-*-tr.png)."""

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from consent.services import ConsentInput, consent_apply
from contacts.models import Contact
from contacts.services import contact_list_add
from messaging.models import Message
from tests.browser.conftest import LANGUAGES, signed_in
from tests.browser.test_whatsapp_admin import policy_problems
from tests.contacts.factories import ContactListFactory
from tests.contacts.helpers import DATA
from tests.providers.factories import ConsoleAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")
IST = ZoneInfo("Europe/Istanbul")
WORDS = {
    "en": {
        "timeline": "Timeline",
        "members": "3 contacts in this list",
        "delivered": "SMS message: Delivered",
        "line": "Line 7",
    },
    "tr": {
        "timeline": "Zaman çizelgesi",
        "members": "Bu listede 3 kişi",
        "delivered": "SMS mesajı: İletildi",
        "line": "Satır 7",
    },
}


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


def shot(page, name, lang):
    assert policy_problems(page) == [], name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"contacts-{name}-{lang}.png"), full_page=True)


def in_view(page, selector) -> bool:
    """The element's right edge is inside the 1366 px window and inside its scrolling box (the
    contacts table's results): seen without scrolling sideways."""
    return page.locator(selector).first.evaluate(
        """el => {
          const right = el.getBoundingClientRect().right;
          const box = el.closest(".results");
          return right <= window.innerWidth && (!box || right <= box.getBoundingClientRect().right + 0.5);
        }"""
    )


@pytest.fixture
def people():
    names = [("Ayşe", "Yılmaz"), ("Can", "Demir"), ("Elif", "Kaya"), ("İsmail", "Öztürk")]
    contacts = [
        Contact.objects.create(
            external_id=f"crm-{n}",
            phone=f"+90532100000{n}",
            email=f"{first.lower()}.{n}@example.com",
            attributes={"first_name": first, "last_name": last, "city": "İzmir"},
        )
        for n, (first, last) in enumerate(names, start=1)
    ]
    vip = ContactListFactory(name="VIP müşteriler")
    contact_list_add(contact_list=vip, contact_ids=[c.pk for c in contacts[:3]])
    return contacts, vip


def test_the_contacts_list_is_searched_by_phone_and_name(browser, live_server, marketer, people, lang):
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/contacts/contact/")
        assert page.locator("#result_list tbody tr").count() == 4
        shot(page, "list", lang)
        for column in (
            "th.column-name_cell",
            "th.column-phone",
            "th.column-email_cell",
            "th.column-sms_subscription",
            "th.column-updated_cell",
            "th.column-whatsapp_consent",
        ):
            assert in_view(page, column), column
        page.fill("#searchbar", "0532 100 00 02")
        page.press("#searchbar", "Enter")
        page.wait_for_url("**q=0532*")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1 and "Can Demir" in rows.first.inner_text()
        shot(page, "search-phone", lang)
        page.fill("#searchbar", "ismail")
        page.press("#searchbar", "Enter")
        page.wait_for_url("**q=ismail*")
        assert page.locator("#result_list tbody tr").count() == 1
        assert "İsmail Öztürk" in page.locator("#result_list tbody").inner_text()


def test_a_contact_page_shows_its_timeline(browser, live_server, marketer, people, lang):
    contact = people[0][0]
    account = ConsoleAccountFactory()
    message = Message.objects.create(
        contact=contact, channel="sms", kind="newsletter", account=account, to=contact.phone, status="delivered"
    )
    Message.objects.filter(pk=message.pk).update(created_at=datetime(2025, 6, 1, 9, 30, tzinfo=ZoneInfo("UTC")))
    consent_apply(
        changes=[
            ConsentInput(
                recipient=contact.phone,
                type="MESAJ",
                status="ONAY",
                consent_date=datetime.now(IST) - timedelta(days=1),
                source="HS_WEB",
                contact_id=contact.pk,
            )
        ],
        origin="admin",
    )
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/contacts/contact/{contact.pk}/change/")
        timeline = page.locator("#timeline")
        assert WORDS[lang]["timeline"] in timeline.locator("h2").inner_text()
        entries = timeline.locator("tr.timeline-entry")
        assert entries.count() == 3
        assert [entries.nth(i).get_attribute("data-kind") for i in range(3)] == ["consent", "list", "message"]
        assert "01.06.2025 12:30:00" in entries.nth(2).inner_text()  # Istanbul time
        assert WORDS[lang]["delivered"] in entries.nth(2).inner_text()
        assert in_view(page, "#timeline")
        timeline.scroll_into_view_if_needed()
        shot(page, "contact", lang)


def test_the_attribute_editor_adds_a_row_removes_one_and_saves(browser, live_server, marketer, people, lang):
    contact = people[0][1]
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/contacts/contact/{contact.pk}/change/")
        editor = page.locator("[data-attributes-editor]")
        assert editor.locator("tr.attribute-row").count() == 3
        editor.locator(".attribute-add").click()
        new_row = editor.locator("tr.attribute-row").last
        new_row.locator(".attribute-name").fill("segment")
        new_row.locator(".attribute-value").fill("altın")
        city = editor.locator("tr.attribute-row").filter(has=page.locator("input.attribute-name[value=city]"))
        city.locator(".attribute-remove").click()
        assert editor.locator("tr.attribute-row").count() == 3
        shot(page, "attributes", lang)
        page.click("input[name=_save]")
        page.wait_for_url("**/contacts/contact/")
        contact.refresh_from_db()
        assert contact.attributes == {"first_name": "Can", "last_name": "Demir", "segment": "altın"}

        page.goto(f"{live_server.url}/admin/contacts/contact/{contact.pk}/change/")
        editor.locator(".attribute-add").click()
        editor.locator("tr.attribute-row").last.locator(".attribute-value").fill("no name")
        page.click("input[name=_save]")
        page.locator(".errornote").wait_for()
        assert page.locator(".errorlist").first.is_visible()
        shot(page, "attributes-error", lang)


def test_a_list_page_shows_its_members_and_leads_to_its_contacts(browser, live_server, marketer, people, lang):
    vip = people[1]
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/contacts/contactlist/")
        assert page.locator("td.field-size").first.inner_text() == "3"
        shot(page, "lists", lang)
        page.locator("#result_list tbody th a").first.click()
        page.locator("#members").wait_for()
        assert WORDS[lang]["members"] in page.locator("#members h2").inner_text()
        assert page.locator("table.list-members tbody tr").count() == 3
        assert in_view(page, "table.list-members")
        shot(page, "list-page", lang)
        page.click("a.contacts-in-list")
        page.wait_for_url(f"**/contacts/contact/?list={vip.pk}")
        assert page.locator("#result_list tbody tr").count() == 3
        shot(page, "in-list", lang)


def test_an_import_with_bad_rows_lists_them_and_keeps_the_good_ones(browser, live_server, marketer, lang):
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        page.goto(f"{live_server.url}/admin/contacts/contact/import/")
        page.set_input_files("#id_import_file", str(DATA / "contacts_mixed.csv"))
        page.select_option("#id_format", index=1)  # csv
        page.click("input[type=submit]")
        rejected = page.locator("ul.import-rejected li")
        rejected.first.wait_for()
        assert rejected.count() == 3 and rejected.first.is_visible()
        assert WORDS[lang]["line"] in rejected.first.inner_text() and "0532 12" in rejected.first.inner_text()
        shot(page, "import-preview", lang)
        page.click("input[name=confirm]")
        page.locator(".import-done").wait_for()
        assert page.locator(".import-done ul.import-rejected li").count() == 3
        shot(page, "import-done", lang)
    assert Contact.objects.count() == 6
