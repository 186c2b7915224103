"""issue 15, Connectors: "Test connection" on the account page with its last result and time,
failures in plain words, the callback URL from the address the panel is served on when
PUBLIC_BASE_URL is not set, and a failing account flagged where it is picked."""

import re

import pytest
from django.urls import reverse
from django.utils.translation import override

from channels_sms.forms import CampaignForm
from providers.console import ConsoleConnector
from providers.models import ProviderAccount
from providers.services import account_install

pytestmark = pytest.mark.django_db

UNREACHABLE = {"base_url": "http://127.0.0.1:9", "api_key": "k", "sender": "M"}


def test_the_account_page_has_the_button_and_it_records_the_verdict(admin_client):
    account = account_install(name="Infobip", connector="infobip", values=UNREACHABLE)
    admin_client.cookies.load({"django_language": "en"})
    page = admin_client.get(reverse("admin:providers_provideraccount_change", args=[account.pk]))
    assert 'id="test-connection"' in page.content.decode()
    url = reverse("admin:providers_provideraccount_test", args=[account.pk])
    response = admin_client.post(url, follow=True)
    text = response.content.decode()
    account.refresh_from_db()
    assert account.last_check_ok is False and account.last_check_at is not None
    message = next(str(m) for m in response.context["messages"])
    assert message.startswith("Infobip: ") and "Traceback" not in text and "Errno" not in message
    assert account.last_check_message in text  # the last result is on the page


def test_the_button_is_a_post_and_for_those_who_may_change_the_account(client, admin_client, marketer):
    account = account_install(name="Console", connector="console", values={})
    url = reverse("admin:providers_provideraccount_test", args=[account.pk])
    assert admin_client.get(url).status_code == 403
    client.force_login(marketer)
    assert client.post(url).status_code == 403
    account.refresh_from_db()
    assert account.last_check_at is None


def test_a_connector_that_breaks_is_told_in_words(admin_client, monkeypatch):
    account = account_install(name="Console", connector="console", values={})

    def broken(self):
        raise KeyError("internal-detail")

    monkeypatch.setattr(ConsoleConnector, "test_connection", broken)
    admin_client.cookies.load({"django_language": "en"})
    response = admin_client.post(reverse("admin:providers_provideraccount_test", args=[account.pk]), follow=True)
    message = next(str(m) for m in response.context["messages"])
    assert "could not run" in message and "internal-detail" not in message


def test_the_callback_url_is_the_address_the_panel_is_opened_on(admin_client, settings):
    settings.PUBLIC_BASE_URL = ""
    settings.ALLOWED_HOSTS = ["panel.example.com", "testserver"]
    account = account_install(name="Infobip", connector="infobip", values=UNREACHABLE)
    assert account.webhook_url.startswith("http://127.0.0.1:8000/hooks/infobip/")
    page = admin_client.get(
        reverse("admin:providers_provideraccount_change", args=[account.pk]), HTTP_HOST="panel.example.com"
    )
    shown = re.search(r'<code id="callback-url">([^<]+)</code>', page.content.decode()).group(1)
    assert shown.startswith("http://panel.example.com/hooks/infobip/")
    assert ProviderAccount.objects.get(pk=account.pk).webhook_url == shown  # what the worker sends
    settings.PUBLIC_BASE_URL = "https://sms.example.com"
    assert ProviderAccount.objects.get(pk=account.pk).webhook_url.startswith("https://sms.example.com/hooks/")


def test_a_failing_account_is_flagged_in_the_campaign_form():
    good = account_install(name="Good", connector="console", values={})
    bad = account_install(name="Bad", connector="infobip", values=UNREACHABLE)
    ProviderAccount.objects.filter(pk=bad.pk).update(last_check_ok=False)
    with override("en"):
        labels = {value: str(label) for value, label in CampaignForm().fields["account"].choices}
    assert labels[bad.pk] == "Bad — failed its last connection test"
    assert labels[good.pk] == "Good"
