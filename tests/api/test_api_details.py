"""Details of the public API: a message's send_date (ISO 8601 with an offset is that instant, `now`
is queued, `YYYY-MM-DD HH:mm` is read as Europe/Istanbul); a consent's recipient_type; a WHATSAPP
consent through the API opting in the contact holding that number; and what GET /api/v1/messages/{id}/
shows once the provider has reported (SMS through the fake Infobip and the console connector;
WhatsApp's read status from the fake Cloud API), all over real HTTP where a provider is involved."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from channels_whatsapp.models import WhatsAppTemplate
from consent.models import Consent, ConsentChange
from contacts.models import Contact
from messaging.models import Message
from providers.services import account_install
from tests.fakes.whatsapp import FakeWhatsApp

ISTANBUL = ZoneInfo("Europe/Istanbul")
ONAY = {"type": "MESAJ", "status": "ONAY", "consent_date": "2025-05-15 14:23:00", "source": "HS_WEB"}


def _wait_until(predicate, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def subscribed(db):
    return Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")


# --- send_date -----------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "send_date, instant",
    [
        ("2099-06-01T12:00:00+00:00", datetime(2099, 6, 1, 12, 0, tzinfo=UTC)),
        ("2099-06-01T12:00:00Z", datetime(2099, 6, 1, 12, 0, tzinfo=UTC)),
        ("2099-06-01T17:30:00+05:30", datetime(2099, 6, 1, 12, 0, tzinfo=UTC)),
        ("2099-06-01T08:00:00-04:00", datetime(2099, 6, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_an_iso_send_date_with_an_offset_schedules_the_message_at_that_instant(
    api, sms_account, infobip, subscribed, send_date, instant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Yaz", "send_date": send_date}
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["send_at"] == "2099-06-01T15:00:00+03:00"  # the same instant, shown in Istanbul
    assert Message.objects.get(pk=body["id"]).next_attempt_at == instant
    assert api.get(f"/api/v1/messages/{body['id']}/").json()["send_at"] == "2099-06-01T15:00:00+03:00"
    assert infobip.accepted == {}


@pytest.mark.django_db
@pytest.mark.parametrize("send_date", ["now", "NOW", " now "])
def test_now_as_the_send_date_queues_the_message_and_it_goes(
    api, sms_account, infobip, subscribed, send_date, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Şimdi", "send_date": send_date}
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "queued" and response.json()["send_at"] is None
    assert [(m["to"], m["text"]) for m in infobip.accepted.values()] == [("905331234562", "Şimdi")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "send_date, instant",
    [
        ("2099-12-24 09:30", datetime(2099, 12, 24, 6, 30, tzinfo=UTC)),
        ("2099-07-01 00:15", datetime(2099, 6, 30, 21, 15, tzinfo=UTC)),  # the day before in UTC
    ],
)
def test_a_send_date_without_an_offset_is_istanbul_time(
    api, sms_account, infobip, subscribed, send_date, instant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Yarın", "send_date": send_date}
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "scheduled"
    assert Message.objects.get(pk=response.json()["id"]).next_attempt_at == instant
    assert response.json()["send_at"] == instant.astimezone(ISTANBUL).isoformat()
    assert infobip.accepted == {}


# --- consents ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_merchants_consent_is_stored_as_tacir(api):
    response = api.post("/api/v1/consents/", {**ONAY, "recipient": "0533 123 45 70", "recipient_type": "TACIR"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["consent"]["recipient_type"] == "TACIR" and body["change"]["recipient_type"] == "TACIR"
    consent = Consent.objects.get(recipient="+905331234570")
    assert consent.recipient_type == "TACIR" and consent.status == "ONAY" and consent.type == "MESAJ"
    assert ConsentChange.objects.get().recipient_type == "TACIR"
    read = api.get("/api/v1/consents/", {"recipient": "+905331234570"}).json()
    assert [(c["type"], c["recipient_type"], c["status"]) for c in read["consents"]] == [("MESAJ", "TACIR", "ONAY")]


@pytest.mark.django_db
def test_a_consent_without_a_recipient_type_is_an_individuals(api):
    api.post("/api/v1/consents/", {**ONAY, "recipient": "0533 123 45 71"})
    assert Consent.objects.get(recipient="+905331234571").recipient_type == "BIREYSEL"


@pytest.mark.django_db
def test_a_whatsapp_onay_through_the_api_opts_in_the_contact_holding_that_number(api):
    holder = api.post("/api/v1/contacts/", {"external_id": "w-1", "whatsapp_number": "0532 555 00 01"})
    assert holder.status_code == 201, holder.json()
    assert holder.json()["whatsapp_consent"] == "unknown"
    Contact.objects.create(external_id="p-1", phone="+905325550001")  # that number as a phone only
    response = api.post(
        "/api/v1/consents/",
        {"recipient": "+905325550001", "type": "WHATSAPP", "status": "ONAY", "consent_date": "2025-05-15 14:23:00",
         "source": "HS_MOBIL"},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    contact = api.get("/api/v1/contacts/w-1/").json()
    assert contact["whatsapp_consent"] == "opt_in" and contact["whatsapp_number"] == "+905325550001"
    phone_only = api.get("/api/v1/contacts/p-1/").json()
    assert phone_only["whatsapp_consent"] == "unknown"  # its phone is not its WhatsApp number
    assert phone_only["sms_subscription"] != "subscribed"  # a WhatsApp consent says nothing about SMS
    change = ConsentChange.objects.get()
    assert change.contact.external_id == "w-1"


@pytest.mark.django_db
def test_a_whatsapp_ret_through_the_api_opts_the_contact_out(api):
    Contact.objects.create(external_id="w-2", whatsapp_number="+905325550002", whatsapp_consent="opt_in")
    body = {
        "recipient": "+905325550002",
        "type": "WHATSAPP",
        "consent_date": "2025-05-15 14:23:00",
        "source": "HS_MOBIL",
    }
    api.post("/api/v1/consents/", {**body, "status": "ONAY"})
    api.post("/api/v1/consents/", {**body, "status": "RET", "consent_date": "2025-06-01 10:00:00"})
    assert api.get("/api/v1/contacts/w-2/").json()["whatsapp_consent"] == "opt_out"


# --- what a message shows once reported ----------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_an_sms_delivered_through_infobip_shows_its_times_and_segments(api, infobip, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url  # Infobip posts its reports to our callback URL
    infobip.real_times = True  # the report's times are real: sent when accepted, done a moment later
    infobip.report_delay = 0.3
    account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "price_per_segment": "0.02"},
    )
    Contact.objects.create(external_id="u-1", phone="+905331234562", sms_subscription="subscribed")
    before = timezone.now()
    response = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": "Merhaba"})
    assert response.status_code == 201, response.json()
    message_id = response.json()["id"]
    assert [m["to"] for m in infobip.accepted.values()] == ["905331234562"]
    infobip.wait_for_reports()
    _wait_until(lambda: Message.objects.get(pk=message_id).status == "delivered")
    read = api.get(f"/api/v1/messages/{message_id}/").json()
    assert read["status"] == "delivered" and read["raw_status"] == "DELIVERED/DELIVERED_TO_HANDSET"
    assert read["segments"] == 1
    sent_at, done_at = datetime.fromisoformat(read["sent_at"]), datetime.fromisoformat(read["done_at"])
    assert before - timedelta(seconds=1) <= sent_at <= done_at <= timezone.now() + timedelta(seconds=1)
    assert read["done_at"].endswith("+03:00") and read["delivered_at"] == read["done_at"]
    assert read["read_at"] is None  # an SMS has no read receipt
    assert [h["status"] for h in read["history"]][-1] == "delivered"


@pytest.mark.django_db
def test_an_sms_through_the_console_shows_it_delivered_with_its_segments(
    api, subscribed, django_capture_on_commit_callbacks
):
    account_install(name="Console", connector="console", values={"sender": "MARKA"})
    long_text = "Kampanya " * 20  # 180 GSM characters: two segments
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/messages/", {"channel": "sms", "contact": "u-1", "text": long_text})
    assert response.status_code == 201, response.json()
    read = api.get(f"/api/v1/messages/{response.json()['id']}/").json()
    assert read["status"] == "delivered" and read["segments"] == 2
    assert read["sent_at"] is not None and read["done_at"] is not None
    assert read["delivered_at"] == read["done_at"] and read["account"] == "Console"
    assert datetime.fromisoformat(read["sent_at"]) <= datetime.fromisoformat(read["done_at"])


@pytest.fixture
def meta(live_server):
    server = FakeWhatsApp().start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_whatsapp_message_shows_read_at_once_meta_says_read(api, meta, live_server):
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": meta.url, "waba_id": meta.waba_id, "phone_number_id": meta.phone_number_id,
                "access_token": meta.access_token, "app_secret": meta.app_secret},
    )  # fmt: skip
    meta.callback_url = f"{live_server.url}/hooks/whatsapp/{account.webhook_secret}/"
    body = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]
    provider_id = meta.add_template("promo", category="MARKETING", components=body)
    WhatsAppTemplate.objects.create(
        account=account, name="promo", language="tr", category="MARKETING", status="APPROVED", components=body,
        variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, text="Merhaba {{1}}",
        provider_id=provider_id,
    )  # fmt: skip
    Contact.objects.create(external_id="w-1", whatsapp_number="+905442000001", whatsapp_consent="opt_in")
    meta.hold_statuses = True  # Meta's statuses come once the send is recorded (SQLite: one writer at a time)
    response = api.post("/api/v1/messages/", {"channel": "whatsapp", "contact": "w-1", "template": "promo"})
    assert response.status_code == 201, response.json()
    message_id = response.json()["id"]
    assert meta.recipients() == {"905442000001": 1}
    assert api.get(f"/api/v1/messages/{message_id}/").json()["read_at"] is None  # not read yet
    meta.release_statuses()
    meta.wait_for_webhooks()
    _wait_until(lambda: Message.objects.get(pk=message_id).read_at is not None)
    read = api.get(f"/api/v1/messages/{message_id}/").json()
    assert read["status"] == "delivered" and read["read_at"] is not None  # read implies delivered
    assert read["read_at"].endswith("+03:00") and read["delivered_at"] == read["done_at"] is not None
    assert datetime.fromisoformat(read["done_at"]) <= datetime.fromisoformat(read["read_at"])
    assert [h["status"] for h in read["history"]][-1] == "read"
    assert read["text"] == "Merhaba Müşterimiz"
