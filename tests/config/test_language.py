"""issue 15, Language: a switcher in the header (Turkish / English) on every page, the login
included; Turkish capitals right ("İzinler", not "Izinler")."""

import re

import pytest
from django.urls import reverse
from django.utils.translation import override

from config.turkish import capfirst

pytestmark = pytest.mark.django_db


def test_every_page_has_the_switcher_and_it_switches(admin_client):
    page = admin_client.get(reverse("admin:contacts_contact_changelist"))
    text = page.content.decode()
    assert 'id="language-switcher"' in text and "Türkçe" in text and "English" in text
    assert '<html lang="tr"' in text
    response = admin_client.post(
        reverse("set_language"), {"language": "en", "next": reverse("admin:contacts_contact_changelist")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:contacts_contact_changelist")
    text = admin_client.get(reverse("admin:contacts_contact_changelist")).content.decode()
    assert '<html lang="en"' in text and "Select contact to change" in text


def test_the_login_page_has_the_switcher(client):
    text = client.get(reverse("admin:login")).content.decode()
    assert 'id="language-switcher"' in text


def test_turkish_capitals_are_right_in_the_panel(admin_client):
    text = re.sub(r"<[^>]+>", " ", admin_client.get(reverse("admin:index")).content.decode())
    assert "İzinler" in text
    assert not re.search(r"\bIzin", text)


def test_capfirst_knows_turkish_and_leaves_english_alone():
    with override("tr"):
        assert capfirst("izin tipi") == "İzin tipi" and capfirst("ılık") == "Ilık" and capfirst("onay") == "Onay"
    with override("en"):
        assert capfirst("interval") == "Interval"


def test_labels_built_by_django_follow_it(admin_client):
    from django.utils.text import capfirst as django_capfirst

    with override("tr"):
        assert django_capfirst("izin") == "İzin"


def test_third_party_names_in_the_navigation_are_translated(admin_client):
    text = admin_client.get(reverse("admin:index")).content.decode()
    assert "Aralıklar" in text and "Periyodik görevler" in text  # django-celery-beat ships no Turkish
    assert "Intervals" not in text and "Periodic Tasks" not in text
