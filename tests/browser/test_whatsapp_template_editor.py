"""The WhatsApp template editor in Chromium: the phone preview follows every keystroke (examples in
place of the variables, footer, buttons), the inputs follow the header type and the variables
typed, user text stays text, and the Content-Security-Policy blocks nothing (issue 13)."""

import os
from pathlib import Path

import pytest

from tests.browser.test_csp import RECORD_VIOLATIONS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.channels_whatsapp.urls"),
]
PAGE = "/admin/whatsapp-template-editor/"
SHOTS = os.environ.get("SCREENSHOTS_DIR")  # e.g. /tmp/shots: where to save what the page looks like


def watch_policy(page) -> list[str]:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)
    return console


def policy_problems(page, console) -> list[str]:
    blocked = page.evaluate("() => window.__cspViolations")
    return blocked + [
        line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line
    ]


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def preview(page, part: str):
    return page.locator(f"[data-wa-preview] [data-wa-part={part}]")


def test_the_preview_follows_the_marketer_as_they_type(login, live_server, page, marketer):
    console = watch_policy(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    login("marketer", "marketer-pass-123")
    page.goto(live_server.url + PAGE)
    assert preview(page, "empty").is_visible()
    for hidden in ("#id_header_text", "#id_header_media_url", "#id_body_1_example", "#id_button_1_url"):
        assert not page.locator(hidden).is_visible(), hidden

    page.fill("#id_name", "order_update")
    page.select_option("#id_header_type", "text")
    page.locator("#id_header_text").press_sequentially("Siparişiniz {{1}}")
    assert page.locator("#id_header_example").is_visible()
    page.fill("#id_header_example", "#123")
    page.fill("#id_header_default", "hazır")
    assert preview(page, "header").inner_text() == "Siparişiniz #123"

    page.locator("#id_body").press_sequentially("Merhaba {{1}}, siparişiniz *{{2}}* yolda.")
    assert page.locator("#id_body_2_example").is_visible() and not page.locator("#id_body_3_example").is_visible()
    body = preview(page, "body")
    assert body.inner_text() == "Merhaba {{1}}, siparişiniz {{2}} yolda."  # no examples yet: the variables
    page.fill("#id_body_1_example", "Ayşe")
    page.fill("#id_body_1_source", "name")
    page.fill("#id_body_1_default", "Müşterimiz")
    page.fill("#id_body_2_example", "1 Mayıs")
    page.fill("#id_body_2_default", "bugün")
    assert body.inner_text() == "Merhaba Ayşe, siparişiniz 1 Mayıs yolda."
    assert body.locator("strong").inner_text() == "1 Mayıs"
    counter = page.locator("#id_body + .wa-counter")
    assert counter.inner_text() == f"{len('Merhaba {{1}}, siparişiniz *{{2}}* yolda.')} / 1024"

    page.locator("#id_footer").press_sequentially("Bildirimleri durdurmak için butona dokunun")
    assert preview(page, "footer").inner_text() == "Bildirimleri durdurmak için butona dokunun"

    page.select_option("#id_button_1_type", "url")
    page.fill("#id_button_1_text", "Takip et")
    page.fill("#id_button_1_url", "https://ex.com/t/{{1}}")
    page.fill("#id_button_1_example", "ORDER123")
    page.fill("#id_button_1_default", "siparis")
    page.check("#id_stop_button")
    assert page.locator("#id_stop_button_text").input_value() == "Kampanyaları durdur"  # the template's language
    buttons = preview(page, "buttons").locator(".wa-button")
    assert buttons.all_inner_texts() == ["Takip et", "Kampanyaları durdur"]
    assert buttons.nth(0).get_attribute("class") == "wa-button wa-button-url"
    assert buttons.nth(1).get_attribute("class") == "wa-button wa-button-reply"
    page.select_option("#id_language", "en")
    assert page.locator("#id_stop_button_text").input_value() == "Stop promotions"
    assert buttons.nth(1).inner_text() == "Stop promotions"
    shot(page, "whatsapp_template_editor_en.png")

    # what the user types is text, never markup
    page.fill("#id_body_1_example", '<img src=x onerror="window.__xss=1">')
    assert body.locator("img").count() == 0
    assert '<img src=x onerror="window.__xss=1">' in body.inner_text()
    assert page.evaluate("() => window.__xss") is None
    page.fill("#id_body_1_example", "Ayşe")

    page.select_option("#id_header_type", "image")
    assert not page.locator("#id_header_text").is_visible() and page.locator("#id_header_media_url").is_visible()
    page.fill("#id_header_media_url", "https://cdn.example.com/kampanya/yaz.jpg")
    assert preview(page, "header").is_hidden() and preview(page, "media").is_visible()
    assert preview(page, "media-kind").inner_text() == "Image" and preview(page, "media-file").inner_text() == "yaz.jpg"
    shot(page, "whatsapp_template_editor_image_en.png")

    page.click("input[type=submit]")
    page.locator("#wa-submitted").wait_for()
    assert '"format": "IMAGE"' in page.locator("#wa-submitted").inner_text()
    assert preview(page, "media").is_visible()  # drawn again from what was posted
    assert buttons.all_inner_texts() == ["Takip et", "Stop promotions"]
    assert policy_problems(page, console) == []


def test_the_editor_in_turkish(browser, live_server, marketer):
    context = browser.new_context(locale="tr-TR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    console = watch_policy(page)
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "marketer")
        page.fill("#id_password", "marketer-pass-123")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.goto(live_server.url + PAGE)
        assert page.locator("label[for=id_body]").inner_text() == "Mesaj metni:"
        assert preview(page, "empty").inner_text() == "Yazdıkça mesaj burada görünür."
        page.fill("#id_body", "Merhaba {{1}}, yaz indirimi başladı: *%30* indirim!")
        page.fill("#id_body_1_example", "Ayşe")
        page.select_option("#id_header_type", "document")
        page.fill("#id_header_media_url", "https://cdn.example.com/katalog.pdf")
        page.select_option("#id_button_1_type", "phone")
        page.fill("#id_button_1_phone", "+908501234567")
        page.check("#id_stop_button")
        labels = preview(page, "buttons").locator(".wa-button").all_inner_texts()
        assert labels == ["Ara", "Kampanyaları durdur"]
        assert preview(page, "media-kind").inner_text() == "Belge"
        shot(page, "whatsapp_template_editor_tr.png")
        page.click("input[type=submit]")
        page.locator(".errornote").wait_for()
        assert page.get_by_text("Bir varsayılan verin: değeri olmayan kişilere o gönderilir.").is_visible()
        shot(page, "whatsapp_template_editor_errors_tr.png")
        assert policy_problems(page, console) == []
    finally:
        context.close()
