"""The contacts search: a phone in any common spelling, email, external id, or a name's start in
the searchable profile attributes (settings.CONTACT_SEARCH_ATTRIBUTES)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from contacts.selectors import contact_display_name, contact_search
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
URL = reverse("admin:contacts_contact_changelist")


def found(admin_client, typed):
    return [c.external_id for c in admin_client.get(URL, {"q": typed}).context["cl"].result_list]


@pytest.mark.parametrize(
    "typed",
    [
        "05321234567",
        "0532 123 45 67",
        "+90 532 123 45 67",
        "+905321234567",
        "90532 123 4567",
        "905321234567",
        "5321234567",
        "(0532) 123-45-67",
        " 0532 123 45 67 ",
    ],
)
def test_a_phone_in_any_common_spelling_finds_the_contact(admin_client, typed):
    ContactFactory(external_id="ayse", phone="+905321234567")
    ContactFactory(external_id="other", phone="+905329999999")
    assert found(admin_client, typed) == ["ayse"]


def test_a_whatsapp_number_email_and_external_id_find_the_contact(admin_client):
    ContactFactory(external_id="wa", phone=None, whatsapp_number="+905331112233", email="wa@example.com")
    ContactFactory(external_id="crm-42", email="can@example.com")
    assert found(admin_client, "0533 111 22 33") == ["wa"]
    assert found(admin_client, "CAN@example.com") == ["crm-42"]
    assert found(admin_client, "crm-42") == ["crm-42"]
    assert found(admin_client, "crm-4") == []  # ids and emails match whole, by their indexes


def test_a_name_start_finds_the_contact_in_any_case(admin_client):
    ContactFactory(external_id="a", attributes={"name": "Ayşe Yılmaz", "city": "İzmir"})
    ContactFactory(external_id="b", attributes={"first_name": "Ayla", "last_name": "Demir"})
    ContactFactory(external_id="c", attributes={"first_name": "İsmail", "last_name": "Kaya"})
    ContactFactory(external_id="d", attributes={"city": "Ayvalık"})  # not a searchable attribute
    assert sorted(found(admin_client, "ay")) == ["a", "b"]
    if connection.vendor == "postgresql":  # SQLite upper-cases ASCII letters only
        assert found(admin_client, "AYŞE") == ["a"]
    assert found(admin_client, "Ayşe Yıl") == ["a"]
    assert found(admin_client, "ayla dem") == ["b"]  # first and last name, each a word's start
    assert found(admin_client, "demir") == ["b"]
    assert found(admin_client, "ismail") == ["c"]  # a lower-case dotted i finds İ
    assert found(admin_client, "izmir") == []


def test_the_searchable_attributes_are_a_setting(admin_client, settings):
    ContactFactory(external_id="a", attributes={"ad": "Zeynep"})
    assert found(admin_client, "zey") == []
    settings.CONTACT_SEARCH_ATTRIBUTES = ["ad"]
    assert found(admin_client, "zey") == ["a"]


def test_a_phone_search_is_one_exact_look_up():
    ContactFactory(external_id="a", phone="+905321234567")
    with CaptureQueriesContext(connection) as queries:
        assert [c.external_id for c in contact_search(Contact.objects.all(), "0532 123 45 67")] == ["a"]
    sql = queries.captured_queries[0]["sql"]
    assert "LIKE" not in sql.upper() and "+905321234567" in sql


def test_the_list_shows_the_name(admin_client):
    ContactFactory(external_id="a", attributes={"first_name": "Ayla", "last_name": "Demir"})
    ContactFactory(external_id="b", attributes={"city": "Bursa"})
    page = admin_client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ayla Demir" in page and "(no name)" in page


def test_the_name_comes_from_name_or_first_and_last_name():
    assert contact_display_name(Contact(attributes={"name": "Can", "first_name": "X"})) == "Can"
    assert contact_display_name(Contact(attributes={"first_name": "Can", "last_name": "Öz"})) == "Can Öz"
    assert contact_display_name(Contact(attributes={"last_name": "Öz"})) == "Öz"
    assert contact_display_name(Contact(attributes={})) == ""
    assert contact_display_name(Contact(attributes=["not", "a", "dict"])) == ""
