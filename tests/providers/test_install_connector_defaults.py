"""install_connector and the admin form (issue 12, items 10b, 13, 18): settings with a default need
not be given, webhook connectors print their callback URL, a changed URL needs its secret again,
and an unknown connector type is a message, not a crash."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from providers.models import ProviderAccount
from providers.services import account_check

pytestmark = pytest.mark.django_db

IYS = ["--set", "brand_code=700100", "--set", "iys_code=700100", "--set", "username=u", "--set", "password=p-secret"]
INFOBIP_URL = "https://acme.api.infobip.com"


def test_settings_with_a_default_are_filled_when_not_given(capsys):
    call_command("install_connector", "iys", "--name", "İYS", *IYS)
    account = ProviderAccount.objects.get(name="İYS")
    assert account.settings["environment"] == "production"
    assert account.settings["backfill_hour"] == 2 and account.settings["mode"] == "sync"
    assert account.credentials == {"password": "p-secret"}


def test_an_update_keeps_the_settings_it_does_not_mention():
    call_command("install_connector", "iys", "--name", "İYS", *IYS, "--set", "environment=sandbox")
    call_command("install_connector", "iys", "--name", "İYS", "--set", "backfill_hour=4")
    account = ProviderAccount.objects.get(name="İYS")
    # not reset to the form's default ("production"): the stored choice stays
    assert account.settings["environment"] == "sandbox" and account.settings["backfill_hour"] == 4
    assert account.settings["brand_code"] == 700100 and account.credentials == {"password": "p-secret"}


def test_a_given_empty_value_is_still_checked():
    with pytest.raises(CommandError, match="environment"):
        call_command("install_connector", "iys", "--name", "İYS", *IYS, "--set", "environment=")


def test_the_callback_url_is_printed_for_connectors_that_receive_webhooks(capsys):
    call_command("install_connector", "infobip", "--set", f"base_url={INFOBIP_URL}", "--set", "api_key=k-1")
    out = capsys.readouterr().out
    account = ProviderAccount.objects.get(connector="infobip")
    assert "callback URL" in out and account.webhook_url in out
    call_command("install_connector", "console")
    assert "callback URL" not in capsys.readouterr().out  # the console connector takes no webhooks


def test_install_connector_refuses_a_new_base_url_without_the_secret():
    call_command("install_connector", "infobip", "--set", f"base_url={INFOBIP_URL}", "--set", "api_key=k-1")
    with translation.override("en"), pytest.raises(CommandError, match=r"api_key: Base URL changed: enter the API key"):
        call_command("install_connector", "infobip", "--set", "base_url=https://attacker.example")
    account = ProviderAccount.objects.get(connector="infobip")
    assert account.settings["base_url"] == INFOBIP_URL and account.credentials == {"api_key": "k-1"}
    # the same address keeps the stored key; a new address with the key given again is fine
    call_command("install_connector", "infobip", "--set", f"base_url={INFOBIP_URL}", "--set", "brand_code=5")
    call_command(
        "install_connector", "infobip", "--set", "base_url=https://other.api.infobip.com", "--set", "api_key=k-2"
    )
    account.refresh_from_db()
    assert account.settings["base_url"] == "https://other.api.infobip.com" and account.credentials == {"api_key": "k-2"}


def test_the_admin_form_refuses_a_new_base_url_without_the_secret(client, panel_admin, monkeypatch):
    call_command(
        "install_connector", "infobip", "--name", "Infobip", "--set", f"base_url={INFOBIP_URL}", "--set", "api_key=k-1"
    )
    account = ProviderAccount.objects.get(name="Infobip")
    client.force_login(panel_admin)
    url = reverse("admin:providers_provideraccount_change", args=[account.pk])
    data = {"name": "Infobip", "is_active": "on", "base_url": "https://attacker.example", "api_key": ""}
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Base URL changed: enter the API key again" in " ".join(errors["api_key"])
    account.refresh_from_db()
    assert account.settings["base_url"] == INFOBIP_URL
    # so "Test connection" still talks to the address the key was given for
    sent_to = []
    from providers.infobip import InfobipConnector

    monkeypatch.setattr(
        InfobipConnector, "test_connection", lambda self: sent_to.append(self.settings["base_url"]) or _ok()
    )
    account_check(account_id=account.pk)
    assert sent_to == [INFOBIP_URL]
    # entering the key again saves the new address
    assert client.post(url, {**data, "api_key": "k-2"}).status_code == 302
    account.refresh_from_db()
    assert account.settings["base_url"] == "https://attacker.example" and account.credentials == {"api_key": "k-2"}


def _ok():
    from providers.base import CheckResult

    return CheckResult(ok=True, message="ok")


def test_an_unchanged_base_url_keeps_the_stored_secret_in_the_admin(client, panel_admin):
    call_command(
        "install_connector", "infobip", "--name", "Infobip", "--set", f"base_url={INFOBIP_URL}", "--set", "api_key=k-1"
    )
    account = ProviderAccount.objects.get(name="Infobip")
    client.force_login(panel_admin)
    url = reverse("admin:providers_provideraccount_change", args=[account.pk])
    data = {"name": "Infobip 2", "is_active": "on", "base_url": INFOBIP_URL, "api_key": ""}
    assert client.post(url, data).status_code == 302
    account.refresh_from_db()
    assert account.name == "Infobip 2" and account.credentials == {"api_key": "k-1"}


@pytest.mark.parametrize("how", ["get", "post"])
def test_an_unknown_connector_type_gets_the_choice_again_with_a_message(client, panel_admin, how):
    client.force_login(panel_admin)
    add = reverse("admin:providers_provideraccount_add")
    if how == "get":
        response = client.get(add + "?connector=nope", HTTP_ACCEPT_LANGUAGE="en")
    else:
        response = client.post(add, {"_connector": "nope", "name": "X"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is no connector called “nope”: pick one from the list." in page
    assert 'name="connector"' in page  # the type choice again
    assert not ProviderAccount.objects.exists()
