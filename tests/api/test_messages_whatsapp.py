"""WhatsApp through POST /api/v1/messages/: an approved template by name with placeholder values,
only to an opted-in number (the fake Meta's own books say what left)."""

import pytest

from channels_whatsapp.models import WhatsAppTemplate
from contacts.models import Contact
from providers.services import account_install
from tests.providers.conftest import fake, sink  # noqa: F401  (the fake Cloud API and its webhook sink)

pytestmark = pytest.mark.django_db
BODY = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]


@pytest.fixture
def wa(fake):  # noqa: F811
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": fake.url, "waba_id": fake.waba_id, "phone_number_id": fake.phone_number_id,
                "access_token": fake.access_token, "app_secret": fake.app_secret},
    )  # fmt: skip
    fake.add_template("promo", category="MARKETING", components=BODY, status="APPROVED")
    WhatsAppTemplate.objects.create(
        account=account, name="promo", language="tr", category="MARKETING", status="APPROVED", components=BODY,
        variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, text="Merhaba {{1}}", provider_id="1",
    )  # fmt: skip
    return account


def test_a_template_goes_to_an_opted_in_contact_with_the_placeholder(api, wa, fake, django_capture_on_commit_callbacks):  # noqa: F811
    Contact.objects.create(external_id="w-1", whatsapp_number="+905442000001", whatsapp_consent="opt_in")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/",
            {"channel": "whatsapp", "contact": "w-1", "template": "promo", "placeholders": {"1": "Ayşe"}},
        )
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "newsletter"  # the template's category decides
    assert fake.recipients() == {"905442000001": 1}
    message = api.get(f"/api/v1/messages/{response.json()['id']}/").json()
    assert message["text"] == "Merhaba Ayşe"
    assert message["status"] in ("sent", "queued")


def test_no_opt_in_is_skipped_and_nothing_leaves(api, wa, fake, django_capture_on_commit_callbacks):  # noqa: F811
    Contact.objects.create(external_id="w-2", whatsapp_number="+905442000002", whatsapp_consent="unknown")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/messages/", {"channel": "whatsapp", "contact": "w-2", "template": "promo"})
    assert response.json()["status"] == "skipped"
    assert fake.recipients() == {}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"template": "nope"}, "template"),
        ({"template": "promo", "kind": "transactional"}, "kind"),
        ({"template": "promo", "sender": "MARKA"}, "sender"),
        ({"template": "promo", "language": "en"}, "template"),
    ],
)
def test_wrong_whatsapp_requests_name_the_field(api, wa, body, field):
    Contact.objects.create(external_id="w-1", whatsapp_number="+905442000001", whatsapp_consent="opt_in")
    response = api.post("/api/v1/messages/", {"channel": "whatsapp", "contact": "w-1", **body})
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]


def test_free_text_outside_the_window_is_skipped_at_once_and_inside_it_goes(
    api,
    wa,
    fake,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    from django.utils import timezone

    from channels_whatsapp.windows import windows_opened
    from providers.base import InboundMessage

    Contact.objects.create(external_id="w-3", whatsapp_number="+905442000003", whatsapp_consent="opt_in")
    body = {"channel": "whatsapp", "contact": "w-3", "text": "Siparişiniz yolda."}
    with django_capture_on_commit_callbacks(execute=True):
        closed = api.post("/api/v1/messages/", body)
    assert closed.status_code == 201 and closed.json()["status"] == "skipped"
    assert "within 24 hours" in closed.json()["reason"]
    assert fake.recipients() == {}

    said = InboundMessage(sender="+905442000003", text="Merhaba", stop=False, received_at=timezone.now())
    windows_opened(account=wa, inbound=[said])
    with django_capture_on_commit_callbacks(execute=True):
        opened = api.post("/api/v1/messages/", body)
    assert opened.status_code == 201 and opened.json()["status"] == "queued", opened.json()
    assert fake.recipients() == {"905442000003": 1}
