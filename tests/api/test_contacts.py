import json

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.models import Contact, PhoneStatus

pytestmark = pytest.mark.django_db


def test_a_new_external_id_is_created_and_the_same_again_is_updated(api):
    created = api.post(
        "/api/v1/contacts/",
        {"external_id": "u-1", "phone": "0533 123 45 62", "email": "Ayse@Example.com", "attributes": {"city": "İzmir"}},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created["Location"] == "/api/v1/contacts/u-1/"
    slashed = api.post("/api/v1/contacts/", {"external_id": "shop/7"}, format="json")
    assert slashed.status_code == 201 and slashed["Location"] == "/api/v1/contacts/shop/7/"
    assert api.get(slashed["Location"]).json()["external_id"] == "shop/7"
    assert created.json()["phone"] == "+905331234562"
    assert created.json()["email"] == "ayse@example.com"
    updated = api.post("/api/v1/contacts/", {"external_id": "u-1", "attributes": {"plan": "gold"}}, format="json")
    assert updated.status_code == 200
    contact = Contact.objects.get(external_id="u-1")
    assert contact.phone == "+905331234562"  # left out: kept
    assert contact.attributes == {"city": "İzmir", "plan": "gold"}  # merged
    assert api.get("/api/v1/contacts/u-1/").json()["attributes"] == {"city": "İzmir", "plan": "gold"}


def test_null_clears_a_field_and_an_attribute(api):
    api.post("/api/v1/contacts/", {"external_id": "u-2", "phone": "+905331234562", "attributes": {"a": 1, "b": 2}})
    api.post("/api/v1/contacts/", {"external_id": "u-2", "phone": None, "attributes": {"a": None}}, format="json")
    contact = Contact.objects.get(external_id="u-2")
    assert contact.phone is None
    assert contact.attributes == {"b": 2}


def test_a_bad_phone_is_a_problem_naming_the_field(api):
    response = api.post("/api/v1/contacts/", {"external_id": "u-3", "phone": "12"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert body["errors"] == {"phone": ["'12' is not a valid phone number"]}
    assert "phone" in body["detail"]
    assert not Contact.objects.filter(external_id="u-3").exists()


def test_a_bad_email_is_answered_in_english_whatever_the_panels_language(api):
    with translation.override("tr"):  # the parser words its reason in the active language: the API's is English
        item = {"external_id": "u-4", "email": "not-an-email"}
        response = api.post("/api/v1/contacts/", item, format="json", HTTP_ACCEPT_LANGUAGE="tr")
    assert response.status_code == 400
    assert response.json()["errors"] == {"email": ["'not-an-email' is not a valid email address"]}


def test_a_batch_applies_every_good_item_and_reports_each_bad_one(api):
    Contact.objects.create(external_id="owner", whatsapp_number="+905551112233")
    items = [
        {"external_id": "b-1", "phone": "+905331234562"},
        {"external_id": "b-2", "phone": "not a phone"},
        {"phone": "+905331234563"},
        {"external_id": "b-3", "whatsapp_number": "+905551112233"},
        {"external_id": "b-1", "email": "b1@example.com"},
        "not an object",
    ]
    response = api.post("/api/v1/contacts/batch/", {"contacts": items}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    outcomes = [r["outcome"] for r in body["results"]]
    assert outcomes == ["created", "rejected", "rejected", "rejected", "created", "rejected"]
    assert body["results"][1]["errors"] == {"phone": ["'not a phone' is not a valid phone number"]}
    assert "external_id" in body["results"][2]["errors"]
    assert body["results"][3]["errors"] == {
        "whatsapp_number": ["+905551112233 is the WhatsApp number of another contact"]
    }
    assert (body["created"], body["rejected"]) == (2, 4)
    contact = Contact.objects.get(external_id="b-1")
    assert (contact.phone, contact.email) == ("+905331234562", "b1@example.com")


def test_a_batch_over_1000_is_refused_whole(api):
    response = api.post(
        "/api/v1/contacts/batch/", {"contacts": [{"external_id": str(i)} for i in range(1001)]}, format="json"
    )
    assert response.status_code == 400
    assert "contacts" in response.json()["errors"]
    assert Contact.objects.count() == 0


def test_an_unknown_contact_is_a_404_problem(api):
    response = api.get("/api/v1/contacts/nobody/")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_an_unknown_api_path_is_a_404_problem(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    phone=st.sampled_from([None, "+905331234562"]),
    email=st.sampled_from([None, "a@example.com"]),
    number=st.sampled_from([None, "+905441234567"]),
    attributes=st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text()), max_size=3),
    status=st.sampled_from(["active", "bounced", "paused"]),
    saved=st.booleans(),
)
def test_the_written_out_representation_is_drfs(phone, email, number, attributes, status, saved):
    from rest_framework import serializers as drf

    from api.contacts import ContactOut

    Contact.objects.filter(external_id="r-1").delete()
    contact = Contact(external_id="r-1", phone=phone, email=email, whatsapp_number=number, attributes=attributes)
    contact.phone_status = PhoneStatus(status) if saved else status  # an enum member, as a default is
    if saved:
        contact.save()
    generic = drf.ModelSerializer.to_representation(ContactOut(contact), contact)
    assert ContactOut(contact).data == generic
    assert json.dumps(ContactOut([contact], many=True).data) == json.dumps([generic])
