"""issue 15, Sending safely: a variable with no value and no default for some contacts is a
warning with the count before sending; a variable that matches no field or attribute at all is an
error when the template is saved; the live counter counts the text a contact will receive (a
sample contact) and names the characters that force UCS-2."""

import pytest
from django.urls import reverse
from django.utils import translation

from channels_sms.counter import counter_answer
from channels_sms.encoding import ucs2_characters
from messaging.models import Campaign, Template
from messaging.variables import Gap, unknown_variables, variable_gaps
from providers.services import account_install
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client):
    client.cookies.load({"django_language": "en"})  # the pages
    with translation.override("en"):  # what a test calls itself
        yield


@pytest.fixture
def console():
    return account_install(name="Console", connector="console", values={"sender": "MARKA"})


def test_a_misspelt_variable_is_refused_when_the_template_is_saved(client, marketer):
    ContactFactory(attributes={"name": "Ayşe", "city": "İzmir"})
    client.force_login(marketer)
    add = reverse("admin:channels_sms_smstemplate_add")
    response = client.post(add, {"name": "Kasım", "sender": "", "text": "Merhaba {{nmae}}, {{city}} mağazamızda"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["text"]
    assert "{{nmae}}" in errors[0] and "{{city}}" not in errors[0]
    response = client.post(add, {"name": "Kasım", "sender": "", "text": "Merhaba {{name}} ({{phone}}), {{city}}"})
    assert response.status_code == 302 and Template.objects.filter(name="Kasım").exists()


def test_nothing_is_called_unknown_before_any_contact_exists():
    assert unknown_variables(["name", "anything"]) == []
    ContactFactory(attributes={"name": "Ayşe"})
    assert unknown_variables(["name", "email", "anything"]) == ["anything"]


def test_a_campaigns_own_text_is_checked_too(client, marketer, console):
    ContactFactory(attributes={"name": "Ayşe"})
    client.force_login(marketer)
    response = client.post(
        reverse("admin:channels_sms_smscampaign_add"),
        {
            "name": "Kasım",
            "kind": "newsletter",
            "account": console.pk,
            "sender": "",
            "text": "Merhaba {{isim}}",
            "audience": "everyone",
        },
    )
    assert response.status_code == 200 and "{{isim}}" in str(response.context["adminform"].form.errors["text"])


def test_contacts_without_a_value_are_counted_before_sending(client, marketer, console):
    for n in range(3):
        record_onay(ContactFactory(phone=f"+90532000000{n}", attributes={"name": f"Kişi {n}", "city": "Ankara"}))
    for n in range(2):
        record_onay(ContactFactory(phone=f"+90532000001{n}", attributes={"city": ""}))
    campaign = Campaign.objects.create(
        name="Kasım",
        channel="sms",
        kind="newsletter",
        account=console,
        text="Merhaba {{name}}, {{city}} şubemizde {{ilce|merkezde}} {{phone}}",
        audience="everyone",
    )
    client.force_login(marketer)
    for page in ("preview", "confirm"):
        text = client.get(reverse(f"admin:channels_sms_smscampaign_{page}", args=[campaign.pk])).content.decode()
        assert "2 of the 5 contacts have no name for {{name}}, which has no default" in text
        assert "2 of the 5 contacts have no city for {{city}}" in text
        assert "{{ilce" not in text.split("contacts have no")[0][-200:]  # a default: no warning for it
        assert "for {{phone}}" not in text


def test_gaps_count_contact_fields_and_attributes_in_one_query(django_assert_num_queries):
    from contacts.models import Contact

    ContactFactory(email="", attributes={"name": "Ayşe"})
    ContactFactory(email="a@example.com", attributes={})
    ContactFactory(email="b@example.com", attributes={"name": None})
    with django_assert_num_queries(1):
        gaps = variable_gaps(Contact.objects.all(), [("{{email}}", "email"), ("{{name}}", "name")])
    assert gaps == [Gap("{{email}}", "email", 1), Gap("{{name}}", "name", 2)]


def test_the_counter_counts_what_a_sample_contact_gets():
    ContactFactory(external_id="c-1", attributes={"name": "Ayşe Yılmaz Çağlayan Öztürk"})
    answer = counter_answer("Merhaba {{name}}", profile="nli")
    assert answer["characters"] == len("Merhaba Ayşe Yılmaz Çağlayan Öztürk")
    assert "c-1" in answer["sample"] and "Merhaba Ayşe Yılmaz" in answer["sample"]
    assert "segment" in answer["summary"]


def test_the_counter_names_the_characters_that_force_ucs2(client, marketer):
    answer = counter_answer("Kampanya’ya özel – fırsat", profile="nli")
    assert answer["encoding"] == "UCS-2"
    assert any("’" in c and "Right Single Quotation Mark" in c and "'" in c for c in answer["ucs2"])
    assert any("–" in c for c in answer["ucs2"]) and not any("ı" in c for c in answer["ucs2"])
    assert ucs2_characters("ş ğ İ ı", profile="nli") == [] and ucs2_characters("ş", profile="gsm") == ["ş"]
    client.force_login(marketer)
    client.cookies.load({"django_language": "tr"})
    shown = client.get(reverse("admin:channels_sms_counter"), {"text": "Merhaba’"}).json()
    assert "’" in shown["ucs2_note"] and "segment" not in shown["summary"]  # in Turkish
