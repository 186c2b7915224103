"""Every API call is attributed to its key in the history (product.md: The public API): each
contact the API creates or changes keeps the key and the fields it set, and the contact's page
shows it on its timeline; an unchanged contact adds nothing."""

import pytest
from django.urls import reverse
from django.utils import translation

from contacts.audit import ContactWrite
from contacts.models import Contact
from contacts.timeline import contact_timeline

pytestmark = pytest.mark.django_db


def test_a_create_and_an_update_name_the_key_and_the_fields(make_client):
    crm = make_client("contacts", name="crm")
    assert crm.post("/api/v1/contacts/", {"external_id": "u-1", "phone": "+905321234567"}).status_code == 201
    assert crm.post("/api/v1/contacts/", {"external_id": "u-1", "phone": "+905321234567"}).status_code == 200
    response = crm.post("/api/v1/contacts/", {"external_id": "u-1", "attributes": {"city": "İzmir"}})
    assert response.status_code == 200 and response.json()["attributes"] == {"city": "İzmir"}

    contact = Contact.objects.get(external_id="u-1")
    writes = list(ContactWrite.objects.filter(contact=contact).order_by("pk").values_list("created", "fields"))
    assert writes == [(True, ["external_id", "phone"]), (False, ["attributes"])]  # the unchanged call: none
    assert set(ContactWrite.objects.values_list("origin_ref", flat=True)) == {crm.api_key.label}
    assert "crm" in crm.api_key.label


def test_a_batch_keeps_one_row_per_contact_it_wrote(make_client):
    crm = make_client("contacts", name="crm")
    items = [
        {"external_id": "b-1", "phone": "+905321234561"},
        {"external_id": "b-2"},
        {"external_id": "b-1", "email": "a@example.com"},
    ]
    items.append({"external_id": "bad", "phone": "12"})
    response = crm.post("/api/v1/contacts/batch/", {"contacts": items}, format="json")
    assert response.status_code == 200, response.json()
    rows = {c: f for c, f in ContactWrite.objects.values_list("contact__external_id", "fields")}
    assert rows == {"b-1": ["external_id", "phone", "email"], "b-2": ["external_id"]}  # the rejected one: none


def test_the_contact_page_shows_what_the_api_did(make_client, admin_client):
    crm = make_client("contacts", name="crm")
    crm.post("/api/v1/contacts/", {"external_id": "t-1", "phone": "+905321234567"})
    crm.post("/api/v1/contacts/", {"external_id": "t-1", "email": "t@example.com"})
    contact = Contact.objects.get(external_id="t-1")

    with translation.override("en"):
        titles = [e.title for e in contact_timeline(contact=contact).entries if e.kind == "api"]
    assert titles == [
        f"Changed through the API by {crm.api_key.label}",
        f"Created through the API by {crm.api_key.label}",
    ]
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert 'data-kind="api"' in text and "Changed through the API by" in text
