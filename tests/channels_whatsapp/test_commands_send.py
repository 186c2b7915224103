"""The WhatsApp commands against the fake Cloud API over real HTTP, Meta's webhooks posted to the
panel's own callback URL (live server): `whatsapp_send` sends an approved template with its
values to an opted-in number and nothing to anyone else, free text only inside the 24-hour window;
`send_campaign --channel whatsapp` sends to the list's opted-in contacts only; `install_connector
whatsapp --test` says in words whether Meta took the connection. What left is read from the fake's
own books."""

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from channels_whatsapp.models import WhatsAppTemplate
from channels_whatsapp.services import templates_sync
from channels_whatsapp.windows import windows_opened
from contacts.models import Contact, ContactList
from messaging.models import Campaign, Message
from providers.base import InboundMessage
from providers.models import ProviderAccount

pytestmark = pytest.mark.django_db(transaction=True)

CODE = [
    {
        "type": "BODY",
        "text": "Merhaba {{1}}, kodunuz {{2}}.",
        "example": {"body_text": [["Ayşe", "K-1"]]},
    }
]
PROMO = [{"type": "BODY", "text": "Merhaba {{1}}, indirim başladı.", "example": {"body_text": [["Ayşe"]]}}]


@pytest.fixture
def templates(meta, account):
    """Two approved templates made at Meta and mirrored by the panel's sync (no bindings yet)."""
    meta.add_template(name="login_code", category="UTILITY", components=CODE)
    meta.add_template(name="promo", category="MARKETING", components=PROMO)
    templates_sync(account=account)
    return {t.name: t for t in WhatsAppTemplate.objects.filter(account=account)}


def _send(*args) -> str:
    """whatsapp_send's output (its errors worded in English)."""
    out = StringIO()
    with translation.override("en"):
        call_command("whatsapp_send", *args, stdout=out)
    return out.getvalue()


def _body_parameters(sent: dict) -> list[str]:
    body = next(c for c in sent["template"]["components"] if c["type"] == "body")
    return [p["text"] for p in body["parameters"]]


def test_whatsapp_send_sends_the_approved_template_to_an_opted_in_number_and_prints_the_outcome(
    meta, account, templates
):
    promo = templates["promo"]
    promo.variables = {"body": {"1": {"source": "name", "default": "Müşterimiz"}}}  # as the template page binds it
    promo.save(update_fields=["variables", "updated_at"])
    ayse = Contact.objects.create(
        whatsapp_number="+905321230001", whatsapp_consent="opt_in", attributes={"name": "Ayşe"}
    )
    meta.hold_statuses = True  # Meta's statuses come once the send is recorded (SQLite: one writer at a time)
    out = _send("--to", "0532 123 00 01", "--template", "promo")
    meta.release_statuses()
    meta.wait_for_webhooks()
    assert meta.recipients() == {"905321230001": 1}
    (sent,) = meta.accepted.values()
    assert sent["type"] == "template" and sent["template"]["name"] == "promo"
    assert sent["template"]["language"]["code"] == "tr"
    assert _body_parameters(sent) == ["Ayşe"]
    message = Message.objects.get()
    assert sent["key"] == message.key and message.contact_id == ayse.pk
    assert message.text == "Merhaba Ayşe, indirim başladı." and message.kind == "newsletter"  # MARKETING
    assert message.status == "delivered" and message.read_at is not None  # Meta's statuses came back
    printed = out.strip()
    assert printed.startswith(f"message {message.pk} to +905321230001: ")
    assert printed.split(": ", 1)[1] in ("queued", "sent")  # as the send left it


def test_whatsapp_send_fills_the_templates_variables_from_var(meta, account, templates):
    Contact.objects.create(whatsapp_number="+905321230011", whatsapp_consent="opt_in")
    meta.hold_statuses = True
    out = _send("--to", "+905321230011", "--template", "login_code", "--var", "1=Ayşe", "--var", "body.2=KOD-77")
    meta.release_statuses()
    meta.wait_for_webhooks()
    assert meta.recipients() == {"905321230011": 1}
    (sent,) = meta.accepted.values()
    assert sent["template"]["name"] == "login_code" and _body_parameters(sent) == ["Ayşe", "KOD-77"]
    message = Message.objects.get()
    assert message.text == "Merhaba Ayşe, kodunuz KOD-77." and message.kind == "transactional"  # UTILITY
    assert f"message {message.pk} to +905321230011: " in out


def test_free_text_outside_the_window_is_refused_and_nothing_leaves(meta, account):
    Contact.objects.create(whatsapp_number="+905321230002", whatsapp_consent="opt_in")
    with pytest.raises(CommandError, match="not sent: free text may be sent only within 24 hours"):
        _send("--to", "+905321230002", "--text", "Siparişiniz yolda.")
    assert meta.accepted == {}
    message = Message.objects.get()
    assert message.status == "skipped" and "24 hours" in message.reason


def test_free_text_goes_once_the_person_has_written_to_the_number(meta, account):
    Contact.objects.create(whatsapp_number="+905321230003", whatsapp_consent="opt_in")
    assert meta.inbound_text("905321230003", "Siparişim nerede?") == 200  # posted to the panel: the window opens
    meta.hold_statuses = True
    out = _send("--to", "+905321230003", "--text", "Yolda, yarın sizde.")
    meta.release_statuses()
    meta.wait_for_webhooks()
    assert meta.recipients() == {"905321230003": 1}
    (sent,) = meta.accepted.values()
    assert sent["type"] == "text" and sent["text"] == "Yolda, yarın sizde."
    message = Message.objects.get()
    assert message.kind == "transactional" and message.status == "delivered"
    assert f"message {message.pk} to +905321230003: " in out


def test_free_text_goes_inside_a_window_the_service_opened(meta, account):
    Contact.objects.create(whatsapp_number="+905321230004", whatsapp_consent="opt_in")
    meta.last_inbound["905321230004"] = time.time()  # Meta saw the message too (else: a 131047 failure)
    said = InboundMessage(sender="+905321230004", text="Merhaba", stop=False, received_at=timezone.now())
    windows_opened(account=account, inbound=[said])
    meta.hold_statuses = True
    _send("--to", "+905321230004", "--text", "Size nasıl yardımcı olabilirim?")
    meta.release_statuses()
    meta.wait_for_webhooks()
    assert meta.recipients() == {"905321230004": 1}
    assert Message.objects.get().status == "delivered"


@pytest.mark.parametrize(
    "consent, reason",
    [("unknown", "No WhatsApp opt-in"), ("opt_out", "No WhatsApp opt-in"), (None, "belongs to no contact")],
    ids=["consent unknown", "opted out", "no contact"],
)
def test_a_number_without_opt_in_gets_nothing(meta, account, templates, consent, reason):
    promo = templates["promo"]
    promo.variables = {"body": {"1": {"source": "name", "default": "Müşterimiz"}}}
    promo.save(update_fields=["variables", "updated_at"])
    if consent is not None:
        Contact.objects.create(whatsapp_number="+905321230005", whatsapp_consent=consent)
    with pytest.raises(CommandError, match="not sent: ") as refused:
        _send("--to", "+905321230005", "--template", "promo")
    assert meta.accepted == {}
    message = Message.objects.get()
    assert message.status == "skipped" and reason in message.reason and reason in str(refused.value)


def test_send_campaign_sends_to_the_lists_opted_in_contacts_only(meta, account, templates, capsys):
    people = ContactList.objects.create(name="VIP")
    opted = [
        Contact.objects.create(
            whatsapp_number=f"+90532124{i:04d}", whatsapp_consent="opt_in", attributes={"name": f"K{i}"}
        )
        for i in range(3)
    ]
    nameless = Contact.objects.create(whatsapp_number="+905321249999", whatsapp_consent="opt_in")
    out_ = Contact.objects.create(whatsapp_number="+905321248888", whatsapp_consent="opt_out")
    unknown = Contact.objects.create(whatsapp_number="+905321247777", whatsapp_consent="unknown")
    sms_only = Contact.objects.create(phone="+905321246666", sms_subscription="subscribed")
    people.contacts.add(*opted, nameless, out_, unknown, sms_only)
    outsider = Contact.objects.create(whatsapp_number="+905321245555", whatsapp_consent="opt_in")  # not on the list
    meta.hold_statuses = True
    with translation.override("en"):
        call_command("send_campaign", "--channel", "whatsapp", "--list", "VIP", "--template", "promo",
                     "--var", "1=name|Değerli müşterimiz", "--account", "WA")  # fmt: skip
    meta.release_statuses()
    meta.wait_for_webhooks()
    expected = {c.whatsapp_number.lstrip("+"): 1 for c in [*opted, nameless]}
    assert meta.recipients() == expected and outsider.whatsapp_number.lstrip("+") not in meta.recipients()
    texts = {m["to"]: _body_parameters(m) for m in meta.accepted.values()}
    assert texts["905321240000"] == ["K0"] and texts["905321249999"] == ["Değerli müşterimiz"]  # the default
    campaign = Campaign.objects.get()
    assert campaign.channel == "whatsapp" and campaign.kind == "newsletter"  # MARKETING
    assert set(Message.objects.values_list("to", flat=True)) == {c.whatsapp_number for c in [*opted, nameless]}
    out = capsys.readouterr().out
    assert f"campaign {campaign.pk}: " in out and "recipients 4" in out
    assert "status " in out and "4 messages, 4 accepted by the provider" in out
    assert "dry run" not in out


def test_install_connector_with_the_test_reports_the_connection_ok(meta, capsys):
    call_command(
        "install_connector", "whatsapp", "--name", "WA", "--set", f"base_url={meta.url}",
        "--set", f"waba_id={meta.waba_id}", "--set", f"phone_number_id={meta.phone_number_id}",
        "--set", f"access_token={meta.access_token}", "--set", f"app_secret={meta.app_secret}", "--test",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "connection test passed: Connected to 908501234567 (Test Brand), quality GREEN." in out
    account = ProviderAccount.objects.get(name="WA")
    assert account.connector == "whatsapp" and account.last_check_ok is True
    assert meta.requests and all(r["headers"].get("Authorization") == "Bearer test-token" for r in meta.requests)


def test_install_connector_with_a_bad_token_says_so_in_words(meta, capsys):
    """The template sync a new account queues fails too, on its own: the command still reports."""
    with translation.override("en"), pytest.raises(CommandError, match="Meta refused the access token"):
        call_command(
            "install_connector", "whatsapp", "--name", "WA", "--set", f"base_url={meta.url}",
            "--set", f"waba_id={meta.waba_id}", "--set", f"phone_number_id={meta.phone_number_id}",
            "--set", "access_token=not-the-token", "--set", f"app_secret={meta.app_secret}", "--test",
        )  # fmt: skip
    out = capsys.readouterr().out
    assert (
        "connection test FAILED: Meta refused the access token (wrong, expired or revoked). "
        "Make a new system-user token." in out
    )
    assert "not-the-token" not in out  # the secret is never printed
    account = ProviderAccount.objects.get(name="WA")
    assert account.last_check_ok is False and "access token" in account.last_check_message
