"""product.md 'People' / issue 15: a user put in the Marketer or Admin group can log in (staff
status follows the role); pages a marketer may not open are not linked for them; a 403 is a page
in the panel's style."""

import re
from collections import deque

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from providers.roles import ADMIN, MARKETER

pytestmark = pytest.mark.django_db


def test_a_user_added_to_a_role_can_log_in_and_loses_it_when_taken_out(django_user_model, client):
    user = django_user_model.objects.create_user("ayse", password="a-long-password-1")
    credentials = {"username": "ayse", "password": "a-long-password-1"}
    client.post(reverse("admin:login"), credentials)
    assert client.get(reverse("admin:index")).status_code == 302  # not staff: back to the login
    user.groups.add(Group.objects.get(name=MARKETER))
    user.refresh_from_db()
    assert user.is_staff
    client.post(reverse("admin:login"), credentials)
    assert client.get(reverse("admin:index")).status_code == 200
    user.groups.remove(Group.objects.get(name=MARKETER))
    user.refresh_from_db()
    assert not user.is_staff


def test_adding_users_from_the_group_side_counts_too(django_user_model):
    user = django_user_model.objects.create_user("mehmet", password="a-long-password-1")
    admins = Group.objects.get(name=ADMIN)
    admins.user_set.add(user)
    user.refresh_from_db()
    assert user.is_staff
    admins.user_set.clear()
    user.refresh_from_db()
    assert not user.is_staff


def test_a_superuser_keeps_staff_and_a_user_without_a_role_is_left_alone(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="a-long-password-1")
    other = django_user_model.objects.create_user("ops", password="a-long-password-1", is_staff=True)
    helpers = Group.objects.create(name="Helpers")
    root.groups.add(Group.objects.get(name=ADMIN))
    root.groups.clear()
    other.groups.add(helpers)
    other.groups.remove(helpers)
    root.refresh_from_db()
    other.refresh_from_db()
    assert root.is_staff and other.is_staff


def test_the_user_form_of_the_panel_gives_staff_with_the_role(admin_client, django_user_model):
    user = django_user_model.objects.create_user("zeynep", password="a-long-password-1")
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")}
    data.update(
        {
            "username": "zeynep",
            "groups": [Group.objects.get(name=MARKETER).pk],
            "date_joined_0": "2026-12-01",
            "date_joined_1": "10:00:00",
            "is_active": "on",
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name=MARKETER).exists()


HREF = re.compile(r'href="(/admin/[^"#]*)"')


def page_kind(url: str) -> str:
    """One visit per kind of page: /admin/contacts/contact/12/change/ stands for every contact."""
    return re.sub(r"/\d+/", "/N/", url.split("?")[0])


@pytest.mark.parametrize("role", ["marketer", "panel_admin"])
def test_no_role_is_shown_a_link_to_a_page_they_may_not_open(client, role, request):
    """Walk every kind of admin page a role can reach by following links from the dashboard
    (demo data installed): none answers 403, and none answers 500."""
    call_command("seed_demo", verbosity=0)
    call_command("seed_sms_demo", verbosity=0)
    client.force_login(request.getfixturevalue(role))
    client.cookies.load({"django_language": "en"})
    start = reverse("admin:index")
    seen_paths: set[str] = set()
    queue = deque([(start, "(start)")])
    forbidden, visited = [], 0
    while queue and visited < 400:
        url, linked_from = queue.popleft()
        path = page_kind(url)
        if path in seen_paths or "/logout/" in path:
            continue
        seen_paths.add(path)
        visited += 1
        response = client.get(url)
        assert response.status_code != 500, url
        if response.status_code == 403:
            forbidden.append((url, linked_from))
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for link in HREF.findall(response.content.decode()):
            link = link.replace("&amp;", "&")
            if page_kind(link) not in seen_paths and "_popup" not in link and "/delete/" not in link:
                queue.append((link, url))
    assert visited > 30  # the walk reached the panel, not only the dashboard
    assert forbidden == [], forbidden


def test_a_403_is_a_page_of_the_panel(client, marketer):
    client.force_login(marketer)
    client.cookies.load({"django_language": "en"})
    response = client.get(reverse("admin:providers_provideraccount_changelist"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "You may not open this page" in text and "Back to the dashboard" in text
    assert "Consent-compliant messaging panel" in text and "admin/css/base.css" in text
