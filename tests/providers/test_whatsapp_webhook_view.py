"""/hooks/whatsapp/<secret>/: Meta's GET subscription handshake answers the challenge only for the
right verify token; a WhatsApp account's inbound STOP opts the number out of WhatsApp, never out of
SMS."""

import hashlib
import hmac
import json

import pytest

from consent.models import ConsentChange
from contacts.models import Contact
from providers.services import account_install

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return account_install(
        name="WA",
        connector="whatsapp",
        values={"waba_id": "102290129340398", "phone_number_id": "106540352242922", "access_token": "t",
                "app_secret": "app-secret"},
    )  # fmt: skip


def test_the_handshake_echoes_the_challenge_for_the_right_verify_token(client, account):
    url = f"/hooks/whatsapp/{account.webhook_secret}/"
    token = account.settings["verify_token"]
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    wrong = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"})
    assert wrong.status_code == 403 and b"1158201444" not in wrong.content
    assert client.get(url).status_code == 403
    assert client.get("/hooks/whatsapp/not-the-secret/", {"hub.verify_token": token}).status_code == 404


def test_a_whatsapp_stop_opts_out_of_whatsapp_not_of_sms(client, account):
    Contact.objects.create(
        phone="+905321234567", whatsapp_number="+905321234567", sms_subscription="subscribed", whatsapp_consent="opt_in"
    )
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "106540352242922"},
                                "contacts": [{"wa_id": "905321234567"}],
                                "messages": [
                                    {"from": "905321234567", "id": "wamid.X", "timestamp": "1733100000",
                                     "type": "text", "text": {"body": "STOP"}}
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()  # fmt: skip
    signature = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    response = client.post(
        f"/hooks/whatsapp/{account.webhook_secret}/",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )
    assert response.status_code == 200
    change = ConsentChange.objects.get()  # a WhatsApp RET only, no MESAJ RET: SMS is another channel
    assert (change.consent.type, change.status, change.consent.recipient) == ("WHATSAPP", "RET", "+905321234567")
    contact = Contact.objects.get()
    assert contact.sms_subscription == "subscribed"
    assert contact.whatsapp_consent == "opt_out" and "WhatsApp reply" in contact.whatsapp_consent_source


def test_install_and_the_account_page_show_the_callback_url_and_the_verify_token(capsys, admin_client):
    from django.core.management import call_command

    from providers.models import ProviderAccount

    call_command(
        "install_connector", "whatsapp", "--name", "WA2", "--set", "waba_id=102290129340398",
        "--set", "phone_number_id=106540352242922", "--set", "access_token=t", "--set", "app_secret=s",
    )  # fmt: skip
    out = capsys.readouterr().out
    account = ProviderAccount.objects.get(name="WA2")
    token = account.settings["verify_token"]
    assert (
        account.webhook_url in out
        and f"verify token (paste it beside the callback URL in Meta's app dashboard): {token}" in out
    )
    page = admin_client.get(
        f"/admin/providers/provideraccount/{account.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    account.refresh_from_db()  # the page is the callback's address now (no PUBLIC_BASE_URL)
    assert account.webhook_url.startswith("http://testserver/") and account.webhook_url in page
    assert token in page and "Sync templates" in page
