"""product.md 'People': a marketer must never see or change provider / İYS credentials."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from providers.roles import ADMIN, MARKETER
from tests.providers.factories import ConsoleAccountFactory

pytestmark = pytest.mark.django_db

CREDENTIAL_PAGES = [
    lambda account: reverse("admin:providers_provideraccount_changelist"),
    lambda account: reverse("admin:providers_provideraccount_add") + "?connector=console",
    lambda account: reverse("admin:providers_provideraccount_change", args=[account.pk]),
]


def test_roles_exist_after_migrate():
    assert set(Group.objects.filter(name__in=[MARKETER, ADMIN]).values_list("name", flat=True)) == {MARKETER, ADMIN}


@pytest.mark.parametrize("page", CREDENTIAL_PAGES)
def test_marketer_gets_403_on_connector_credential_pages(client, marketer, page):
    account = ConsoleAccountFactory()
    client.force_login(marketer)
    assert client.get(page(account)).status_code == 403


@pytest.mark.parametrize("page", CREDENTIAL_PAGES)
def test_admin_role_gets_200_on_connector_credential_pages(client, panel_admin, page):
    account = ConsoleAccountFactory()
    client.force_login(panel_admin)
    assert client.get(page(account)).status_code == 200


def test_marketer_cannot_post_a_connector(client, marketer):
    client.force_login(marketer)
    url = reverse("admin:providers_provideraccount_add") + "?connector=console"
    response = client.post(url, {"name": "sneaky", "is_active": "on", "sender": "X"})
    assert response.status_code == 403
    from providers.models import ProviderAccount

    assert not ProviderAccount.objects.filter(name="sneaky").exists()


def test_marketer_works_with_targeting(client, marketer):
    client.force_login(marketer)
    assert client.get(reverse("admin:contacts_contact_changelist")).status_code == 200
    assert client.get(reverse("admin:contacts_contactlist_add")).status_code == 200


def test_marketer_dashboard_hides_connectors_and_nav(client, marketer):
    ConsoleAccountFactory()
    client.force_login(marketer)
    page = client.get(reverse("admin:index")).content.decode()
    assert "provideraccount" not in page
    assert 'data-key="connectors"' not in page
    assert 'data-key="contacts"' in page


def test_role_permissions_follow_new_models():
    """post_migrate re-syncs the groups, so models added later reach the marketer role."""
    marketer = Group.objects.get(name=MARKETER)
    codenames = set(marketer.permissions.values_list("codename", flat=True))
    assert {"add_contact", "change_contact", "view_contactlist"} <= codenames
    assert not any(c.endswith("provideraccount") for c in codenames)
    admin = Group.objects.get(name=ADMIN)
    assert admin.permissions.filter(codename="change_provideraccount").exists()
