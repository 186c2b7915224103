"""İYS figures say what they mean in the mode in use (product.md Consent and İYS): only in
Integrator mode does an ONAY await İYS's confirmation before it counts; in Sync mode it is
sendable at once and İYS confirms after the upload; with no İYS connector nothing awaits İYS."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from providers.models import ProviderAccount
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
AWAITING = "awaiting İYS confirmation"


def iys(mode: str):
    return ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": mode})


def status_page(client) -> str:
    client.cookies.load({"django_language": "en"})
    return client.get(reverse("admin:consent_iysbackfill_changelist")).content.decode()


def figure(client, key: str) -> dict | None:
    client.cookies.load({"django_language": "en"})
    figures = client.get(reverse("admin:dashboard_json")).json()["figures"]
    return next((f for f in figures if f["key"] == key), None)


def command() -> str:
    out = io.StringIO()
    call_command("iys_status", stdout=out)
    return out.getvalue()


@pytest.fixture
def unconfirmed_onay(db):
    record_onay(ContactFactory(phone="+905320000001"))


def test_without_an_iys_connector_nothing_is_said_to_await_iys(admin_client, unconfirmed_onay):
    assert AWAITING not in status_page(admin_client) and 'id="iys-awaiting"' not in status_page(admin_client)
    assert figure(admin_client, "iys_backlog") is None
    assert AWAITING not in command() and "no İYS connector" in command()


def test_in_sync_mode_an_unconfirmed_onay_is_said_to_be_sendable(admin_client, unconfirmed_onay):
    iys("sync")
    page = status_page(admin_client)
    assert AWAITING not in page
    assert "ONAY not yet confirmed by İYS (Sync mode: sendable now, confirmed after the upload)" in page
    assert 'id="iys-awaiting">1<' in page
    backlog = figure(admin_client, "iys_backlog")
    assert backlog["detail"].startswith("Sync mode") and AWAITING not in backlog["detail"]
    assert AWAITING not in command() and "Sync mode, sendable now): 1" in command()


def test_in_integrator_mode_an_unconfirmed_onay_awaits_iys(admin_client, unconfirmed_onay):
    iys("integrator")
    page = status_page(admin_client)
    assert "ONAY awaiting İYS confirmation (Integrator mode: not sendable yet)" in page
    assert 'id="iys-awaiting">1<' in page
    backlog = figure(admin_client, "iys_backlog")
    assert backlog["detail"] == "Integrator mode · 1 ONAY awaiting İYS confirmation"
    assert "awaiting İYS confirmation (Integrator mode, not sendable yet): 1" in command()


def test_the_wording_is_turkish_in_the_turkish_panel(admin_client, unconfirmed_onay):
    iys("integrator")
    admin_client.cookies.load({"django_language": "tr"})
    page = admin_client.get(reverse("admin:consent_iysbackfill_changelist")).content.decode()
    assert "İYS onayı bekleyen ONAY (Entegratör modu: henüz gönderilemez)" in page
    iys_figures = admin_client.get(reverse("admin:dashboard_json")).json()["figures"]
    detail = next(f for f in iys_figures if f["key"] == "iys_backlog")["detail"]
    assert "İYS onayı bekleyen" in detail
