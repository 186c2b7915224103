"""Connector accounts: install through the form/command, credentials encrypted at rest."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from providers.models import ProviderAccount
from providers.services import account_check, account_install

pytestmark = pytest.mark.django_db


def test_credentials_are_encrypted_at_rest_and_never_in_repr(monkeypatch):
    from providers.console import ConsoleConnector

    monkeypatch.setattr(ConsoleConnector, "secret_fields", ("sender",))
    account = account_install(name="c", connector="console", values={"sender": "TopSecret1"})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted, settings FROM providers_provideraccount WHERE id = %s", [account.pk]
        )
        stored, settings_json = cursor.fetchone()
    assert "TopSecret1" not in stored and "TopSecret1" not in str(settings_json)
    assert ProviderAccount.objects.get(pk=account.pk).credentials == {"sender": "TopSecret1"}
    assert "TopSecret1" not in repr(account) and "TopSecret1" not in repr(account.connector_instance())


def test_install_validates_with_the_connector_form():
    with pytest.raises(ValidationError) as excinfo:
        account_install(name="c", connector="console", values={"sender": "MUCH-TOO-LONG-NAME"})
    assert "sender" in excinfo.value.message_dict


def test_install_rejects_unknown_settings():
    with pytest.raises(ValidationError, match="unknown setting"):
        account_install(name="c", connector="console", values={"colour": "blue"})


def test_install_connector_command_is_idempotent_and_validates(capsys):
    call_command("install_connector", "console", "--name", "Console", "--set", "sender=ACME")
    call_command("install_connector", "console", "--name", "Console", "--set", "sender=ACME2")
    account = ProviderAccount.objects.get(name="Console")
    # rate_limit was never given: it takes the form's default (0: as fast as the provider accepts)
    assert account.settings["sender"] == "ACME2" and account.settings["rate_limit"] == 0
    with pytest.raises(CommandError, match="sender"):
        call_command("install_connector", "console", "--name", "Console", "--set", "sender=WAY-TOO-LONG-SENDER")
    with pytest.raises(CommandError, match="unknown connector"):
        call_command("install_connector", "nope", "--name", "X")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        call_command("install_connector", "console", "--name", "X", "--set", "sender")


def test_connection_test_is_recorded():
    account = account_install(name="c", connector="console", values={})
    result = account_check(account_id=account.pk)
    account.refresh_from_db()
    assert result.ok and account.last_check_ok is True and account.last_check_at is not None


def test_admin_installs_a_connector_in_two_steps(client, panel_admin):
    client.force_login(panel_admin)
    add = reverse("admin:providers_provideraccount_add")
    picker = client.get(add)
    assert picker.status_code == 200 and b'name="connector"' in picker.content
    form = client.get(add + "?connector=console")
    assert b'name="sender"' in form.content
    bad = client.post(add + "?connector=console", {"name": "Main", "is_active": "on", "sender": "X" * 12})
    assert bad.status_code == 200 and not ProviderAccount.objects.exists()
    response = client.post(add + "?connector=console", {"name": "Main", "is_active": "on", "sender": "ACME"})
    assert response.status_code == 302, response.content
    account = ProviderAccount.objects.get(name="Main")
    assert account.connector == "console" and account.settings["sender"] == "ACME"
    assert account.created_by == panel_admin
