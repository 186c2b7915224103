import pytest

from channels_whatsapp.models import WhatsAppTemplate
from contacts.models import Contact, ContactList
from journeys.models import Journey
from journeys.services import journey_activate, journey_save_steps
from providers.services import account_install
from tests.fakes.infobip import FakeInfobip
from tests.fakes.whatsapp import FakeWhatsApp, WebhookSink

BODY = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]

# SMS → wait for delivery (60 s) → delivered: the end; not delivered: the WhatsApp template
FALLBACK = {
    "start": "sms",
    "steps": {
        "sms": {"type": "send_sms", "text": "Merhaba {{name|Müşterimiz}}", "next": "wait", "not_sent": "whatsapp"},
        "wait": {"type": "wait_delivery", "of": "sms", "seconds": 60, "delivered": "done", "not_delivered": "whatsapp"},
        "whatsapp": {"type": "send_whatsapp", "template": "promo", "language": "tr", "next": "done"},
        "done": {"type": "exit"},
    },
}


@pytest.fixture
def infobip():
    fake = FakeInfobip().start()
    yield fake
    fake.stop()


@pytest.fixture
def sms_account(infobip):
    return account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA", "price_per_segment": "0.02"},
    )


@pytest.fixture
def meta():
    sink = WebhookSink().start()
    server = FakeWhatsApp(callback_url=sink.url).start()
    yield server
    server.stop()
    sink.stop()


@pytest.fixture
def wa_account(meta):
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": meta.url, "waba_id": meta.waba_id, "phone_number_id": meta.phone_number_id,
                "access_token": meta.access_token, "app_secret": meta.app_secret},
    )  # fmt: skip
    meta.add_template("promo", category="MARKETING", components=BODY, status="APPROVED")
    WhatsAppTemplate.objects.create(
        account=account, name="promo", language="tr", category="MARKETING", status="APPROVED", components=BODY,
        variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, text="Merhaba {{1}}", provider_id="1",
    )  # fmt: skip
    return account


@pytest.fixture
def accounts(sms_account, wa_account):
    return sms_account, wa_account


def contact(phone: str, *, sms: bool = True, whatsapp: bool = True, **fields) -> Contact:
    """A contact subscribed to SMS (no İYS connector: subscription is the SMS rule) and opted in
    to WhatsApp, unless told otherwise."""
    return Contact.objects.create(
        external_id=fields.pop("external_id", phone),
        phone=phone,
        sms_subscription="subscribed" if sms else "not_subscribed",
        whatsapp_number=phone,
        whatsapp_consent="opt_in" if whatsapp else "unknown",
        **fields,
    )


def active_journey(definition=FALLBACK, *, name="Hoş geldin", re_entry="once", **entry) -> Journey:
    entry.setdefault("entry", "list")
    if entry["entry"] == "list" and "entry_list" not in entry:
        entry["entry_list"] = ContactList.objects.get_or_create(name="Yeni üyeler")[0]
    journey = Journey.objects.create(name=name, re_entry=re_entry, **entry)
    journey_save_steps(journey=journey, definition=definition)
    return journey_activate(journey=journey)
