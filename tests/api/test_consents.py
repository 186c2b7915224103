import pytest
from django.utils import translation

from consent.models import ConsentChange
from contacts.models import Contact

pytestmark = pytest.mark.django_db

ONAY = {
    "recipient": "0533 123 45 62",
    "type": "MESAJ",
    "status": "ONAY",
    "consent_date": "2025-05-15 14:23:00",
    "source": "HS_WEB",
}


def test_a_change_goes_through_the_ledger_attributed_to_the_key(api):
    contact = Contact.objects.create(external_id="u-1", phone="+905331234562")
    response = api.post("/api/v1/consents/", ONAY)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created"
    assert body["change"]["recipient"] == "+905331234562"
    assert body["change"]["origin"] == "api"
    assert body["change"]["origin_ref"] == api.api_key.label
    assert body["consent"]["consent_date"] == "2025-05-15T14:23:00+03:00"
    change = ConsentChange.objects.get()
    assert change.contact_id == contact.pk
    contact.refresh_from_db()
    assert contact.sms_subscription == "subscribed"  # the ledger's one truth, two views


def test_the_same_status_again_changes_nothing(api):
    api.post("/api/v1/consents/", ONAY)
    again = api.post("/api/v1/consents/", {**ONAY, "consent_date": "2025-06-01T10:00:00Z"})
    assert again.status_code == 200
    assert again.json()["outcome"] == "unchanged"
    assert again.json()["change"] is None
    assert ConsentChange.objects.count() == 1


def test_an_older_change_does_not_replace_a_newer_one(api):
    api.post("/api/v1/consents/", ONAY)
    older = api.post("/api/v1/consents/", {**ONAY, "status": "RET", "consent_date": "2024-01-01 00:00:00"})
    assert older.json()["outcome"] == "unchanged"
    assert older.json()["consent"]["status"] == "ONAY"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"consent_date": "2099-01-01 00:00:00"}, "future"),
        ({"consent_date": "2014-01-01 00:00:00"}, "01.05.2015"),
        ({"source": "HS_KARAR"}, "HS_KARAR"),
    ],
)
def test_iys_rules_refuse_with_422_and_the_reason(api, change, words):
    response = api.post("/api/v1/consents/", {**ONAY, **change})
    assert response.status_code == 422, response.json()
    assert words in response.json()["detail"]
    assert not ConsentChange.objects.exists()


def test_the_ledgers_refusals_are_english_whatever_the_panels_language(api):
    """The ledger and the upload parsers word their reasons in the active language; the API's is English."""
    with translation.override("tr"):
        future = api.post(
            "/api/v1/consents/", {**ONAY, "consent_date": "2099-01-01 00:00:00"}, HTTP_ACCEPT_LANGUAGE="tr"
        )
        platform = api.post("/api/v1/consents/", {**ONAY, "source": "pigeon"}, HTTP_ACCEPT_LANGUAGE="tr")
    assert future.status_code == 422 and future.json()["detail"] == "the consent date is in the future"
    assert platform.status_code == 400
    assert platform.json()["errors"]["source"][0].startswith("the platform 'pigeon' is not known")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"recipient": "12"}, "recipient"),
        ({"type": "FAX"}, "type"),
        ({"status": "MAYBE"}, "status"),
        ({"consent_date": "yesterday"}, "consent_date"),
        ({"source": "pigeon"}, "source"),
        ({"source": "IYS_WEB"}, "source"),
        ({"type": "EPOSTA"}, "recipient"),
    ],
)
def test_bad_fields_are_400_naming_the_field(api, change, field):
    response = api.post("/api/v1/consents/", {**ONAY, **change})
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]


def test_a_platform_name_is_taken_as_its_iys_source_and_email_is_lower_cased(api):
    response = api.post(
        "/api/v1/consents/",
        {
            "recipient": "Ayse@Example.com",
            "type": "EPOSTA",
            "status": "ONAY",
            "consent_date": "2025-05-15T11:23:00Z",
            "source": "web",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["change"]["source"] == "HS_WEB"
    assert response.json()["change"]["recipient"] == "ayse@example.com"


def test_reading_gives_current_consents_and_history_newest_first(api):
    api.post("/api/v1/consents/", ONAY)
    api.post("/api/v1/consents/", {**ONAY, "status": "RET", "consent_date": "2025-07-01 09:00:00"})
    api.post("/api/v1/consents/", {**ONAY, "type": "WHATSAPP", "source": "HS_MOBIL"})
    body = api.get("/api/v1/consents/", {"recipient": "+905331234562"}).json()
    assert {(c["type"], c["status"]) for c in body["consents"]} == {("MESAJ", "RET"), ("WHATSAPP", "ONAY")}
    assert [(h["type"], h["status"]) for h in body["history"]] == [
        ("WHATSAPP", "ONAY"),
        ("MESAJ", "RET"),
        ("MESAJ", "ONAY"),
    ]
    assert api.get("/api/v1/consents/").status_code == 400


def test_consents_need_their_scope(make_client):
    client = make_client("contacts")
    assert client.post("/api/v1/consents/", ONAY).status_code == 403
    assert client.get("/api/v1/consents/", {"recipient": "+905331234562"}).status_code == 403
