"""The Contacts page's import (django-import-export) takes national spellings of phones the way the
test-SMS form does, and a file with bad rows still imports its good rows; the bad ones are listed
with their line in the file and the reason in words, before confirming and after."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact
from tests.contacts.factories import ContactFactory
from tests.contacts.helpers import DATA

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:contacts_contact_import")
CONFIRM = reverse("admin:contacts_contact_process_import")


def preview(client, name="contacts_mixed.csv", content=None):
    content = content if content is not None else (DATA / name).read_bytes()
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(IMPORT, {"resource": "0", "format": "0", "import_file": upload}, HTTP_ACCEPT_LANGUAGE="en")


def plain(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


def test_the_preview_lists_the_bad_rows_by_line_and_offers_the_good_ones(client, marketer):
    client.force_login(marketer)
    response = preview(client)
    assert response.status_code == 200
    text = plain(response.content.decode())
    assert "3 rows will not be imported" in text
    assert "Line 7: column “phone”: the phone number '0532 12' is not a valid phone number" in text
    assert "Line 8: column “email”: 'not-an-email' is not a valid email address" in text
    assert "Line 9: column “phone”: the phone number '0532ABC0008' is not a valid phone number" in text
    assert "The other 6 rows are fine" in text
    assert response.context["confirm_form"] is not None
    assert not Contact.objects.exists()  # a preview writes nothing


def test_confirming_imports_the_good_rows_and_lists_the_bad_ones_again(client, marketer):
    client.force_login(marketer)
    form = preview(client).context["confirm_form"]
    done = client.post(CONFIRM, form.initial, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200
    text = plain(done.content.decode())
    assert "Imported: 6 new, 0 updated, 0 unchanged." in text
    assert "3 rows were not imported" in text and "Line 7:" in text and "Line 9:" in text
    phones = dict(Contact.objects.values_list("external_id", "phone"))
    assert phones == {
        "m1": "+905321000001",
        "m2": "+905321000002",
        "m3": "+905321000003",
        "m4": "+905321000004",
        "m5": "+905321000005",
        "m9": "+905321000009",
    }
    assert Contact.objects.get(external_id="m9").attributes == {"name": "Zeynep", "city": "Muğla"}


def test_a_05xx_row_without_an_id_updates_the_contact_holding_that_phone(client, marketer):
    client.force_login(marketer)
    ContactFactory(external_id=None, phone="+905321000002", attributes={})
    form = preview(client, "p.csv", b"phone,name\n0532 100 00 02,Can\n").context["confirm_form"]
    assert client.post(CONFIRM, form.initial).status_code == 302  # nothing bad: back to the list
    assert Contact.objects.get().attributes == {"name": "Can"}


def test_a_file_of_only_bad_rows_offers_nothing_to_confirm(client, marketer):
    client.force_login(marketer)
    response = preview(client, "bad.csv", b"exid,phone\nb1,12\nb2,abc\n")
    text = plain(response.content.decode())
    assert response.context.get("confirm_form") is None
    assert "2 rows will not be imported" in text and "No row of the file can be imported" in text
    assert "Line 2:" in text and "Line 3:" in text
