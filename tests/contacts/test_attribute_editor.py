"""Profile attributes on the contact's page are rows of name and value, not a JSON box: what is
shown comes back unchanged, names are checked, numbers stay numbers."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from contacts.forms import AttributesField, AttributesWidget
from contacts.models import Contact
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def page_data(admin_client, contact, rows):
    """What the contact's form posts, with `rows` (name, value) as the attribute rows."""
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    form = page.context["adminform"].form
    data = QueryDict(mutable=True)
    for name in ("external_id", "email", "phone", "whatsapp_number", "phone_status"):
        if name in form.fields:
            data[name] = form.initial.get(name) or ""
    for formset in page.context["inline_admin_formsets"]:
        data[f"{formset.formset.prefix}-TOTAL_FORMS"] = "0"
        data[f"{formset.formset.prefix}-INITIAL_FORMS"] = "0"
    for name, value in rows:
        data.appendlist("attributes-name", name)
        data.appendlist("attributes-value", value)
    return dict(data.lists())


def save(admin_client, contact, rows):
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    return admin_client.post(url, page_data(admin_client, contact, rows), HTTP_ACCEPT_LANGUAGE="en")


def test_the_page_shows_the_attributes_as_rows_not_json(admin_client):
    contact = ContactFactory(attributes={"name": "Ayşe", "age": 34, "tags": ["a", "b"]})
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()
    assert 'name="attributes-name" value="name"' in page and 'name="attributes-value" value="Ayşe"' in page
    assert 'name="attributes-name" value="age"' in page and 'name="attributes-value" value="34"' in page
    assert 'value="[&quot;a&quot;, &quot;b&quot;]"' in page
    assert "<textarea" not in page.split('id="timeline"')[0].split("attributes-editor")[1]
    assert "contacts/attributes.js" in page


def test_the_rows_round_trip_and_numbers_stay_numbers(admin_client):
    contact = ContactFactory(attributes={"name": "Ayşe", "age": 34, "score": 1.5, "tags": ["a"], "vip": True})
    response = save(
        admin_client,
        contact,
        [("name", "Ayşe Y."), ("age", "35"), ("score", "1.5"), ("tags", '["a"]'), ("vip", "true"), ("city", " İzmir ")],
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert contact.attributes == {
        "name": "Ayşe Y.",
        "age": 35,
        "score": 1.5,
        "tags": ["a"],
        "vip": True,
        "city": "İzmir",
    }


def test_a_new_value_that_looks_like_a_number_stays_text(admin_client):
    contact = ContactFactory(attributes={"zip": "06100", "age": 34})
    assert save(admin_client, contact, [("zip", "06100"), ("postcode", "35000"), ("age", "unknown")]).status_code == 302
    contact.refresh_from_db()
    assert contact.attributes == {"zip": "06100", "postcode": "35000", "age": "unknown"}


def test_removing_every_row_empties_the_attributes_and_blank_rows_are_ignored(admin_client):
    contact = ContactFactory(attributes={"name": "Ayşe"})
    assert save(admin_client, contact, [("", ""), ("  ", "")]).status_code == 302
    contact.refresh_from_db()
    assert contact.attributes == {}


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([("", "Ayşe")], "Row 1: the name is missing."),
        ([("city", "İzmir"), ("city", "Bursa")], "Row 2: the name “city” is used twice."),
        ([("x" * 101, "1")], "Row 1: the name is longer than 100 characters."),
    ],
)
def test_bad_names_are_refused_in_words_and_nothing_changes(admin_client, rows, problem):
    contact = ContactFactory(attributes={"name": "Ayşe"})
    response = save(admin_client, contact, rows)
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).attributes == {"name": "Ayşe"}
    # the rows typed are shown again to correct
    assert f'value="{rows[0][1]}"' in response.content.decode()


def test_a_new_contact_gets_its_attributes_from_rows(admin_client):
    data = {
        "external_id": "new-1",
        "phone_status": "active",
        "attributes-name": ["name", "city"],
        "attributes-value": ["Can", "Bursa"],
    }
    response = admin_client.post(reverse("admin:contacts_contact_add"), data)
    assert response.status_code == 302
    assert Contact.objects.get(external_id="new-1").attributes == {"name": "Can", "city": "Bursa"}


def test_the_field_reads_json_text_too():
    field = AttributesField()
    assert field.clean('{"a": 1}') == {"a": 1}
    assert AttributesWidget().format_value('{"a": 1}') == [("a", "1")]
