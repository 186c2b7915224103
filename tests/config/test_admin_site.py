import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_navigation_is_grouped_as_the_product_is(admin_client):
    app_list = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en").context["app_list"]
    names = [str(section["name"]) for section in app_list]
    assert names[0] == "Targeting"
    targeting = app_list[0]
    assert [m["object_name"] for m in targeting["models"]][:2] == ["Contact", "ContactList"]
    assert "Scheduled tasks" in names and "Users and roles" in names


def test_panel_speaks_turkish(admin_client):
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    assert "Hedefleme" in page and "Bağlayıcılar" in page and "Kişiler" in page


def test_dashboard_json_gives_live_figures(admin_client):
    data = admin_client.get(reverse("admin:dashboard_json")).json()
    keys = {f["key"] for f in data["figures"]}
    assert {"contacts", "sms_subscribed", "connectors", "workers"} <= keys


def test_dashboard_json_needs_login(client):
    assert client.get(reverse("admin:dashboard_json")).status_code == 302


def test_beat_schedule_is_installed_and_editable():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="providers.tasks.check_all_accounts")
    assert task.interval.every == 3600 and task.enabled
