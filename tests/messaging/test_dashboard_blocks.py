"""The dashboard as a marketer finds it: on a new installation it says what to do next (install
a connector, upload contacts, create a campaign), each step ticked once done and the block gone
when all are; below, the last five campaigns of both channels with what was sent and delivered."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from providers.models import ProviderAccount
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import campaign, console_account, message

pytestmark = pytest.mark.django_db
CREATED = datetime(2025, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Istanbul"))


def dashboard(client) -> str:
    client.cookies.load({"django_language": "en"})
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def step(page: str, key: str) -> str:
    start = page.index(f'data-step="{key}"')
    return page[page.rindex("<li", 0, start) : page.index("</li>", start)]


def test_a_new_installation_says_what_to_do_first(admin_client):
    page = dashboard(admin_client)
    assert 'id="getting-started"' in page and "Getting started" in page
    for key in ("connector", "contacts", "campaign"):
        assert 'class="start-step todo"' in step(page, key)
    assert reverse("admin:providers_provideraccount_add") in step(page, "connector")
    assert reverse("admin:contacts_filetransfer_add") in step(page, "contacts")
    assert reverse("admin:channels_sms_smscampaign_add") in step(page, "campaign")
    assert reverse("admin:channels_whatsapp_whatsappcampaign_add") in step(page, "campaign")
    assert 'id="recent-campaigns"' not in page  # nothing to list yet


def test_a_marketer_is_not_sent_to_install_a_connector(client, marketer):
    client.force_login(marketer)
    page = dashboard(client)
    connector = step(page, "connector")
    assert reverse("admin:providers_provideraccount_add") not in connector
    assert "an admin installs them" in connector
    assert reverse("admin:contacts_filetransfer_add") in step(page, "contacts")
    assert reverse("admin:channels_sms_smscampaign_add") in step(page, "campaign")


def test_each_step_is_ticked_when_done_and_the_block_goes_when_all_are(admin_client):
    account = console_account()
    page = dashboard(admin_client)
    assert 'class="start-step done"' in step(page, "connector") and "✓" in step(page, "connector")
    assert reverse("admin:providers_provideraccount_add") not in step(page, "connector")
    assert 'class="start-step todo"' in step(page, "contacts")
    ContactFactory()
    page = dashboard(admin_client)
    assert 'class="start-step done"' in step(page, "contacts") and 'class="start-step todo"' in step(page, "campaign")
    campaign(account, status="draft")
    page = dashboard(admin_client)
    assert 'id="getting-started"' not in page and 'id="recent-campaigns"' in page


def test_an_iys_account_alone_is_no_connector_to_send_with(admin_client):
    ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
    assert 'class="start-step todo"' in step(dashboard(admin_client), "connector")


def test_recent_campaigns_lists_the_last_five_of_both_channels(admin_client):
    sms = console_account()
    whatsapp = ProviderAccount.objects.create(name="WhatsApp", connector="whatsapp", channel="whatsapp")
    campaign(sms, name="En eski")
    for n in range(4):
        campaign(sms, name=f"SMS {n}")
    counted = campaign(whatsapp, name="WhatsApp Kasım", channel="whatsapp", status="sending")
    for n, status in enumerate(["delivered", "delivered", "sent", "failed", "pending"]):
        message(whatsapp, campaign=counted, status=status, to=f"+9053200000{n:02d}", created_at=CREATED,
                channel="whatsapp")  # fmt: skip
    ContactFactory()
    page = dashboard(admin_client)
    block = page[page.index('id="recent-campaigns"') :]
    block = block[: block.index("</section>")]
    assert "En eski" not in block and block.count("<tr data-campaign=") == 5
    assert block.index("WhatsApp Kasım") < block.index("SMS 3") < block.index("SMS 0")  # newest first
    row = block[block.index(f'data-campaign="{counted.pk}"') :]
    row = row[: row.index("</tr>")]
    preview = reverse("admin:channels_whatsapp_whatsappcampaign_preview", args=[counted.pk])
    assert f'href="{preview}"' in row and "WhatsApp" in row and "Sending" in row
    assert '<td class="number">3</td><td class="number">2</td>' in row  # sent (handed over), delivered


def test_a_user_who_may_not_see_campaigns_gets_no_list(client, django_user_model):
    campaign(console_account(), name="Gizli")
    clerk = django_user_model.objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    client.force_login(clerk)
    page = dashboard(client)
    assert "Gizli" not in page and 'id="recent-campaigns"' not in page
    assert 'id="chart-messages-per-day"' not in page and 'id="chart-consent-growth"' not in page


def test_the_dashboard_places_both_charts_for_a_marketer(client, marketer):
    client.force_login(marketer)
    page = dashboard(client)
    assert f'data-chart-url="{reverse("admin:messaging_message_per_day")}"' in page
    assert f'data-chart-url="{reverse("admin:consent_consentchange_per_day")}"' in page
    assert "/static/panel/charts.js" in page and "<script>" not in page
