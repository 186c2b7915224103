"""The dashboard and a campaign's preview in Chromium at 1366 px, in English and Turkish: on a new
installation the dashboard says what to do first and its charts say there is nothing yet; with
a month of messages and consents the charts draw (SVG, axis titles, legend), the recent campaigns
are listed, and the campaign's delivery is drawn by the hour. The Content-Security-Policy blocks
nothing. SCREENSHOTS_DIR=/tmp/shots saves each page (charts-*-en.png, charts-*-tr.png)."""

import os
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from consent.services import ConsentInput, consent_apply
from tests.browser.conftest import LANGUAGES, signed_in
from tests.browser.test_whatsapp_admin import policy_problems
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import ISTANBUL, campaign, console_account, message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS_DIR")
WORDS = {
    "en": {
        "delivered": "Delivered",
        "empty": "No messages in the last 30 days",
        "start": "Getting started",
        "onay": "ONAY (consent given)",
        "accepted": "Accepted by the provider",
        "messages": "Messages",
    },
    "tr": {
        "delivered": "İletildi",
        "empty": "Son 30 günde mesaj yok",
        "start": "Başlarken",
        "onay": "ONAY (izin verildi)",
        "accepted": "Sağlayıcı kabul etti",
        "messages": "Mesajlar",
    },
}


@pytest.fixture(params=sorted(LANGUAGES))
def lang(request):
    return request.param


def shot(page, name: str, lang: str) -> None:
    assert policy_problems(page) == [], name
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"charts-{name}-{lang}.png"), full_page=True)


def drawn(page, key: str) -> str:
    page.wait_for_selector(f"#chart-{key}[data-drawn]")
    return page.get_attribute(f"#chart-{key}", "data-drawn")


def a_month_of_work():
    """Contacts with consents recorded over the month, a finished campaign sent this morning and
    messages on most of the last 30 days."""
    account = console_account()
    now = timezone.localtime(timezone.now(), ISTANBUL)
    contacts = [ContactFactory() for _ in range(24)]
    for n, contact in enumerate(contacts):
        when = now - timedelta(days=n % 20, hours=n % 5)
        status = "RET" if n % 6 == 0 else "ONAY"
        with mock.patch("django.utils.timezone.now", return_value=when):
            consent_apply(
                changes=[
                    ConsentInput(
                        recipient=contact.phone,
                        type="MESAJ",
                        status=status,
                        source="HS_WEB",
                        consent_date=datetime(2025, 5, 1, tzinfo=ISTANBUL),
                        contact_id=contact.pk,
                    )
                ],
                origin="upload",
            )
    for n in range(5):
        campaign(account, name=f"Ekim bülteni {n + 1}")
    kasim = campaign(account, name="Kasım indirimi")
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    statuses = ["delivered"] * 9 + ["undelivered", "sent", "failed"]
    for n in range(48):
        status = statuses[n % len(statuses)]
        sent_at = start + timedelta(minutes=7 * n)
        done_at = sent_at + timedelta(minutes=20) if status != "sent" else None
        message(account, campaign=kasim, status=status, to=f"+9053210{n:05d}", created_at=start, sent_at=sent_at,
                done_at=done_at, reason="EC_UNKNOWN_SUBSCRIBER" if status == "undelivered" else "")  # fmt: skip
    for day in range(1, 30):
        for n in range(day % 7 + 1):
            message(account, status=statuses[(day + n) % len(statuses)], to=f"+9053220{day:02d}{n:03d}",
                    created_at=now - timedelta(days=day, hours=n))  # fmt: skip
    return kasim


def test_a_new_installation_says_what_to_do_and_the_charts_are_empty(browser, live_server, marketer, lang):
    words = WORDS[lang]
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        assert page.locator("#getting-started h2").inner_text().strip().lower() == words["start"].lower()
        assert page.locator("#getting-started .start-step.todo").count() == 3
        assert drawn(page, "messages-per-day") == "empty"
        assert page.locator("#chart-messages-per-day .chart-empty").inner_text() == words["empty"]
        assert drawn(page, "consent-growth") == "empty"
        shot(page, "dashboard-new", lang)


def test_the_charts_draw_on_the_dashboard_and_the_campaign_preview(browser, live_server, marketer, lang):
    words = WORDS[lang]
    kasim = a_month_of_work()
    with signed_in(browser, live_server, lang=lang, username="marketer", password="marketer-pass-123") as page:
        assert page.locator("#getting-started").count() == 0  # everything is done
        assert drawn(page, "messages-per-day") == "chart"
        assert drawn(page, "consent-growth") == "chart"
        bars = page.locator("#chart-messages-per-day svg rect.series")
        assert bars.count() >= 29
        assert words["delivered"] in page.locator("#chart-messages-per-day .chart-legend").inner_text()
        assert words["messages"] in page.locator("#chart-messages-per-day svg .axis-title").all_text_contents()
        assert page.locator("#chart-consent-growth svg rect.series-onay").count() >= 10
        assert words["onay"] in page.locator("#chart-consent-growth .chart-legend").inner_text()
        recent = page.locator("#recent-campaigns tbody tr")
        assert recent.count() == 5 and "Kasım indirimi" in recent.first.inner_text()
        shot(page, "dashboard", lang)

        recent.first.locator("a").click()
        page.wait_for_url(f"**/smscampaign/{kasim.pk}/preview/")
        assert drawn(page, "campaign-delivery") == "chart"
        chart = page.locator("#chart-campaign-delivery")
        assert chart.locator("svg path.series-sent").count() == 1
        assert chart.locator("svg path.series-delivered").count() == 1
        assert words["accepted"] in chart.locator(".chart-legend").inner_text()
        assert page.locator("#report-xlsx").is_visible()
        shot(page, "campaign-preview", lang)
