"""Settings → Channels → SMS in the admin, as a marketer and as an admin."""

import re

import pytest
from django.urls import reverse

from messaging.models import Campaign, Message
from providers.models import ProviderAccount
from providers.services import account_install
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    return account_install(name="Console", connector="console", values={"sender": "MARKA", "price_per_segment": "0.1"})


def test_a_marketer_builds_previews_and_sends_a_campaign(client, marketer, console, django_capture_on_commit_callbacks):
    record_onay(ContactFactory(phone="+905320000001"))
    ContactFactory(phone="+905320000002", phone_status="paused")
    client.force_login(marketer)
    response = client.post(
        reverse("admin:channels_sms_smscampaign_add"),
        {
            "name": "Kasım",
            "kind": "newsletter",
            "account": console.pk,
            "sender": "",
            "text": "Merhaba {{name}}",
            "audience": "everyone",
            "audience_filter": "{}",
            "alert_phone": "",
            "send_at": "",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{campaign.pk}/preview/")
    assert campaign.sender == "MARKA"  # the account's default sender
    preview = client.get(response["Location"])
    page = preview.content.decode()
    assert preview.status_code == 200
    excluded = reverse("admin:channels_sms_smscampaign_excluded", args=[campaign.pk, "paused"])
    assert 'id="preview-sendable"><strong>1</strong>' in page and f'data-reason="paused"><a href="{excluded}"' in page
    assert "Merhaba Ayşe" in page and ("0.10" in page or "0,10" in page)  # sample text; 1 recipient × 1 segment × 0.1
    assert re.search(r'id="campaign-details"[^>]*>(Edit|Düzenle)</a>', page)  # a draft's form can be changed
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:channels_sms_smscampaign_act", args=[campaign.pk, "start"]), {"confirmed": "1"})
    campaign.refresh_from_db()
    assert campaign.status == "done" and Message.objects.get().status == "delivered"
    assert client.get(reverse("admin:channels_sms_smscampaign_change", args=[campaign.pk])).status_code == 200
    sent = client.get(reverse("admin:channels_sms_smscampaign_preview", args=[campaign.pk])).content.decode()
    assert re.search(r'id="campaign-details"[^>]*>(Details|Ayrıntılar)</a>', sent)  # read-only once sent
    history = client.get(reverse("admin:messaging_message_changelist"))
    assert history.status_code == 200 and "+905320000001" in history.content.decode()
    assert client.get(reverse("admin:messaging_message_changelist") + "?q=0532 000 00 01").status_code == 200


def test_the_campaign_form_explains_a_bad_sender(client, marketer, console):
    client.force_login(marketer)
    response = client.post(
        reverse("admin:channels_sms_smscampaign_add"),
        {
            "name": "x",
            "kind": "newsletter",
            "account": console.pk,
            "sender": "ŞİRKET",
            "text": "x",
            "audience": "everyone",
            "audience_filter": "{}",
            "alert_phone": "",
            "send_at": "2026-13-01 10:00",
        },
    )
    assert response.status_code == 200 and not Campaign.objects.exists()
    page = response.content.decode()
    assert "Latin letters" in page and "YYYY-MM-DD HH:mm" in page


def test_counter_json_counts_like_the_dispatcher(client, marketer):
    client.force_login(marketer)
    answer = client.get(reverse("admin:channels_sms_counter"), {"text": "ş" * 156}).json()
    assert answer["segments"] == 2 and answer["encoding"].startswith("GSM-7 + Turkish")


def test_only_admins_send_test_sms_and_see_the_callback_url(client, marketer, panel_admin, infobip, infobip_account):
    url = reverse("sms-test-send", args=[infobip_account.pk])
    client.force_login(marketer)
    assert client.get(url).status_code == 403
    client.force_login(panel_admin)
    page = client.get(reverse("admin:providers_provideraccount_change", args=[infobip_account.pk])).content.decode()
    infobip_account.refresh_from_db()  # the callback URL is the address the page was opened on
    assert infobip_account.webhook_url in page and "Test SMS gönder" in page  # the panel speaks Turkish by default
    response = client.post(url, {"to": "0532 000 00 05", "text": "Test", "kind": "transactional"})
    assert response.status_code == 200 and 'id="test-result"' in response.content.decode()
    assert infobip.recipients() == {"905320000005": 1}
    assert ProviderAccount.objects.get(pk=infobip_account.pk).credentials["api_key"] not in response.content.decode()
