"""The WhatsApp admin pages in Chromium, in English and Turkish, against the fake Cloud API whose
webhooks reach the live server: a marketer makes a template on the real add page (the phone
preview follows), submits it and sees it pending, then approved by Meta's webhook; builds a
campaign, checks its preview and sends it. The Content-Security-Policy blocks nothing.
SCREENSHOTS_DIR=/tmp/shots saves each page at 1366 px (wa-*-en.png, wa-*-tr.png)."""

import os
import re
from pathlib import Path

import pytest

from channels_whatsapp.models import WhatsAppTemplate
from contacts.models import Contact, ContactList
from messaging.models import Campaign
from providers.services import account_install
from tests.browser.conftest import LANGUAGES, signed_in
from tests.fakes.whatsapp import FakeWhatsApp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture
def meta(live_server):
    server = FakeWhatsApp().start()
    yield server
    server.stop()


@pytest.fixture
def account(meta, live_server):
    meta.add_template("welcome", language="en", category="MARKETING", body="Welcome to our shop!")
    meta.reject(meta.add_template("spring_sale", status="PENDING"), reason="PROMOTIONAL")  # no callback yet
    meta.add_template("order_status", category="UTILITY", status="PENDING")
    account = account_install(  # brings Meta's templates (the sync on install)
        name="Mağaza WhatsApp",
        connector="whatsapp",
        values={
            "base_url": meta.url,
            "waba_id": meta.waba_id,
            "phone_number_id": meta.phone_number_id,
            "access_token": meta.access_token,
            "app_secret": meta.app_secret,
            "price_marketing": "0.5",
            "price_utility": "0.2",
        },
    )
    meta.callback_url = f"{live_server.url}/hooks/whatsapp/{account.webhook_secret}/"
    return account


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


@pytest.fixture
def panel(browser, live_server, marketer, lang):
    """A marketer's browser at 1366 px in `lang`, watching the Content-Security-Policy."""
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        yield page


def policy_problems(page) -> list[str]:
    """What the policy blocked on every page seen (the console) and on this one (its own record)."""
    blocked = page.evaluate("() => window.__cspViolations")
    return blocked + [line for line in page.console_lines if "Content Security Policy" in line]


def shot(page, name: str, lang: str) -> None:
    assert policy_problems(page) == [], name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"wa-{name}-{lang}.png"), full_page=True)


def phone(page, part: str):
    return page.locator(f"[data-wa-preview] [data-wa-part={part}]")


def test_a_marketer_makes_a_template_on_the_admin_page_and_meta_approves_it(panel, live_server, meta, account, lang):
    page = panel
    page.goto(f"{live_server.url}/admin/channels_whatsapp/whatsapptemplate/")
    assert page.locator("#result_list").get_by_text("welcome").is_visible()  # synced when the account came
    if lang == "en":
        assert page.locator("#result_list tr", has_text="spring_sale").locator(".field-status_shown").inner_text() == (
            "Rejected: promotional"
        )
    shot(page, "template-list", lang)

    page.goto(f"{live_server.url}/admin/channels_whatsapp/whatsapptemplate/add/")
    assert phone(page, "empty").is_visible() and not page.locator("#id_body_1_example").is_visible()
    assert page.locator("#id_account").input_value() == str(account.pk)  # the only WhatsApp account
    assert page.locator("[data-wa-preview] .wa-business").inner_text() == "Mağaza WhatsApp"
    page.fill("#id_name", "kargo_bildirimi")
    page.select_option("#id_category", "UTILITY")
    page.locator("#id_body").press_sequentially("Merhaba {{1}}, siparişiniz *yola çıktı*.")
    assert page.locator("#id_body_1_example").is_visible() and not page.locator("#id_body_2_example").is_visible()
    assert phone(page, "body").inner_text() == "Merhaba {{1}}, siparişiniz yola çıktı."
    page.fill("#id_body_1_example", "Ayşe")
    page.fill("#id_body_1_source", "name")
    page.fill("#id_body_1_default", "Müşterimiz")
    page.fill("#id_footer", "Mağaza A.Ş.")
    assert phone(page, "body").inner_text() == "Merhaba Ayşe, siparişiniz yola çıktı."
    assert phone(page, "body").locator("strong").inner_text() == "yola çıktı"
    assert phone(page, "footer").inner_text() == "Mağaza A.Ş."
    shot(page, "template-editor", lang)

    meta.hold_statuses = True  # nothing but the verdict below writes from the webhook thread
    page.click("input[name=_submit]")
    page.wait_for_url("**/change/")
    template = WhatsAppTemplate.objects.get(name="kargo_bildirimi")
    assert page.locator("#wa-status").get_attribute("data-status") == "PENDING"
    assert meta.templates[template.provider_id]["status"] == "PENDING"
    assert page.locator("#id_body").is_disabled() and page.locator("#id_body_1_default").is_enabled()
    assert phone(page, "body").inner_text() == "Merhaba Ayşe, siparişiniz yola çıktı."  # drawn from what Meta holds
    if lang == "en":
        assert page.locator("#wa-status strong").inner_text() == "Pending review"
    shot(page, "template-submitted", lang)

    page.fill("#id_body_1_default", "Değerli müşterimiz")
    page.click("#wa-template-form input[type=submit]")
    page.wait_for_url("**/change/")
    template.refresh_from_db()
    assert template.variables["body"]["1"] == {"source": "name", "default": "Değerli müşterimiz"}

    assert meta.approve(template.provider_id) == 200  # Meta's verdict, signed, at the panel's callback URL
    page.reload()
    assert page.locator("#wa-status").get_attribute("data-status") == "APPROVED"
    assert policy_problems(page) == []


def test_a_marketer_builds_a_whatsapp_campaign_and_sends_it_from_the_preview(panel, live_server, meta, account, lang):
    page = panel
    meta.hold_statuses = True  # the webhook thread waits until the send is over (SQLite: one writer)
    meta.add_template("siparis_yolda", category="UTILITY", body="Merhaba {{1}}, siparişiniz yolda.")
    page.goto(f"{live_server.url}/admin/channels_whatsapp/whatsapptemplate/")
    page.click("#wa-sync")
    page.locator(".messagelist").wait_for()
    template = WhatsAppTemplate.objects.get(name="siparis_yolda")
    template.variables = {"body": {"1": {"source": "name", "default": "Müşterimiz"}}}
    template.save()
    people = ContactList.objects.create(name="Kargo bekleyenler")
    people.contacts.add(
        Contact.objects.create(whatsapp_number="+905321110001", whatsapp_consent="opt_in", attributes={"name": "Ayşe"}),
        Contact.objects.create(whatsapp_number="+905321110002", whatsapp_consent="opt_in", attributes={"name": "Can"}),
        Contact.objects.create(whatsapp_number="+905321110003", whatsapp_consent="opt_out"),
        Contact.objects.create(phone="+905321110004"),
    )

    page.goto(f"{live_server.url}/admin/channels_whatsapp/whatsappcampaign/add/")
    offered = page.locator("#id_template option").all_inner_texts()[1:]  # approved only
    assert len(offered) == 2 and offered[0].startswith("siparis_yolda (tr) · ") and offered[1].startswith("welcome")
    assert page.locator("#id_audience").input_value() == ""  # chosen, never assumed
    assert not page.locator(".field-audience_filter").is_visible()  # no audience yet: none of its fields
    assert not page.locator(".field-contact_list").is_visible()
    page.fill("#id_name", "Kargo haberi")
    page.select_option("#id_template", str(template.pk))
    page.select_option("#id_audience", "list")
    assert not page.locator(".field-audience_filter").is_visible()  # the list's audience has no filter
    page.select_option("#id_contact_list", str(people.pk))
    shot(page, "campaign-form", lang)
    page.click("input[name=_save]")
    page.wait_for_url("**/preview/")
    campaign = Campaign.objects.get()
    assert campaign.kind == "transactional"  # utility, chosen by a marketer: opt-in still needed
    assert page.locator("#preview-sendable").inner_text() == "2"
    assert page.locator("[data-reason=no_whatsapp]").inner_text() == "1"
    assert page.locator("[data-reason=no_whatsapp_opt_in]").inner_text() == "1"
    assert "Merhaba Ayşe, siparişiniz yolda." in page.locator(".sms-preview").inner_text()
    assert "0.40" in page.locator(".sms-preview").inner_text() or "0,40" in page.locator(".sms-preview").inner_text()
    shot(page, "campaign-preview", lang)

    page.click("#start-campaign")  # Send now…
    page.wait_for_url("**/confirm/")
    question = page.locator("#confirm-question").inner_text()
    assert re.search(r"\b2\b", question) and ("0.40 TRY" in question or "0,40 TRY" in question), question
    shot(page, "campaign-confirm", lang)
    page.click("#confirm-send")
    page.wait_for_url("**/preview/")
    assert meta.recipients() == {"905321110001": 1, "905321110002": 1}
    meta.release_statuses()
    meta.wait_for_webhooks()
    page.reload()
    assert page.locator("#read-rate").inner_text() == "100%"
    shot(page, "campaign-sent", lang)
    assert policy_problems(page) == []
