"""The WhatsApp channel end to end against the fake Cloud API over real HTTP, Meta's webhooks
posted to the panel's own callback URL (live server): a template's life (made in the panel →
submitted → approved by the signed template webhook → sent → delivered → read), a campaign with
exclusions, a STOP, the 24-hour window, and what is refused before anything is sent."""

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from channels_whatsapp.models import ServiceWindow, TemplateStatus, WhatsAppTemplate
from channels_whatsapp.services import template_save_draft, template_submit, templates_sync
from channels_whatsapp.single import whatsapp_send
from contacts.models import Contact, ContactList
from messaging.models import Campaign, Message
from messaging.selectors import campaign_preview, campaign_statistics
from messaging.services import campaign_create, campaign_start
from providers.services import account_install
from tests.fakes.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.django_db(transaction=True)

ORDER_COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Siparişiniz {{1}}", "example": {"header_text": ["#123"]}},
    {
        "type": "BODY",
        "text": "Merhaba {{1}}, siparişiniz {{2}} yola çıktı.",
        "example": {"body_text": [["Ayşe", "bugün"]]},
    },
    {"type": "FOOTER", "text": "Durdurmak için butona dokunun"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Takip et", "url": "https://ex.com/t/{{1}}", "example": ["ORDER123"]},
            {"type": "QUICK_REPLY", "text": "Kampanyaları durdur"},
        ],
    },
]
ORDER_BINDINGS = {
    "header": {"1": {"source": "order_no", "default": "hazır"}},
    "body": {"1": {"source": "name", "default": "Müşterimiz"}, "2": {"source": "", "default": "bugün"}},
    "button:0": {"1": {"source": "external_id", "default": "siparis"}},
}


@pytest.fixture
def meta(live_server):
    server = FakeWhatsApp().start()
    yield server
    server.stop()


@pytest.fixture
def account(meta, live_server):
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={
            "base_url": meta.url,
            "waba_id": meta.waba_id,
            "phone_number_id": meta.phone_number_id,
            "access_token": meta.access_token,
            "app_secret": meta.app_secret,
            "price_marketing": "0.5",
        },
    )
    meta.callback_url = f"{live_server.url}/hooks/whatsapp/{account.webhook_secret}/"
    return account


def _approved(meta, account, **fields) -> WhatsAppTemplate:
    template = template_save_draft(
        account=account,
        name=fields.get("name", "order_update"),
        language="tr",
        category=fields.get("category", "MARKETING"),
        components=fields.get("components", ORDER_COMPONENTS),
        bindings=fields.get("bindings", ORDER_BINDINGS),
    )
    template = template_submit(template=template)
    assert template.status == TemplateStatus.PENDING and template.provider_id
    meta.approve(template.provider_id)  # Meta's verdict arrives signed at our callback URL
    template.refresh_from_db()
    return template


def test_a_templates_life_ends_delivered_and_read(meta, account):
    template = _approved(meta, account)
    assert template.status == TemplateStatus.APPROVED and template.status_at
    ayse = Contact.objects.create(
        external_id="u1",
        whatsapp_number="+905321110001",
        whatsapp_consent="opt_in",
        attributes={"name": "Ayşe", "order_no": "#77"},
    )
    meta.hold_statuses = True
    message = whatsapp_send(to="+905321110001", account=account, template=template)
    meta.release_statuses()
    # accepted (Meta's statuses may already have moved it on: they come over HTTP meanwhile)
    assert message.status in ("queued", "sent", "delivered") and message.provider_id
    assert message.text == "Merhaba Ayşe, siparişiniz bugün yola çıktı."
    sent = meta.accepted[message.provider_id]
    assert sent["key"] == message.key and sent["to"] == "905321110001"
    params = {c["type"]: c["parameters"] for c in sent["template"]["components"]}
    assert params["header"][0]["text"] == "#77" and [p["text"] for p in params["body"]] == ["Ayşe", "bugün"]
    meta.wait_for_webhooks()
    message.refresh_from_db()
    assert message.status == "delivered" and message.read_at is not None
    assert message.contact_id == ayse.pk


def test_a_rejection_comes_back_with_its_reason_and_the_template_cannot_be_sent(meta, account):
    template = template_submit(
        template=template_save_draft(
            account=account, name="promo", language="tr", category="MARKETING", components=ORDER_COMPONENTS,
            bindings=ORDER_BINDINGS,
        )
    )  # fmt: skip
    meta.reject(template.provider_id, reason="INVALID_FORMAT")
    template.refresh_from_db()
    assert template.status == TemplateStatus.REJECTED and "invalid format" in template.status_reason
    Contact.objects.create(whatsapp_number="+905321110002", whatsapp_consent="opt_in")
    with pytest.raises(Exception, match="only an approved template"):
        whatsapp_send(to="+905321110002", account=account, template=template)
    assert not meta.accepted


def test_a_campaign_goes_only_to_opted_in_numbers_and_a_stop_opts_out(meta, account):
    template = _approved(meta, account)
    people = ContactList.objects.create(name="VIP")
    opted = [
        Contact.objects.create(
            whatsapp_number=f"+90532111{i:04d}", whatsapp_consent="opt_in", attributes={"name": f"K{i}"}
        )
        for i in range(5)
    ]
    out = Contact.objects.create(whatsapp_number="+905321119998", whatsapp_consent="opt_out")
    none = Contact.objects.create(phone="+905321119997")
    people.contacts.add(*opted, out, none)
    campaign = campaign_create(name="Kasım", channel="whatsapp", account=account, template=template,
                               audience="list", contact_list=people)  # fmt: skip
    assert campaign.kind == "newsletter"  # from the template's category
    preview = campaign_preview(campaign)
    assert preview.sendable == 5 and dict((c, n) for c, _l, n in preview.exclusions) == {
        "no_whatsapp_opt_in": 1,
        "no_whatsapp": 1,
    }
    assert preview.estimated_cost == pytest.approx(2.5) and preview.sample_text.startswith("Merhaba K0")
    meta.hold_statuses = True  # the statuses come once the campaign is sent (SQLite: one writer at a time)
    campaign_start(campaign_id=campaign.pk)
    meta.release_statuses()
    meta.wait_for_webhooks()
    stats = campaign_statistics(Campaign.objects.get(pk=campaign.pk))
    assert stats.delivered == 5 and meta.recipients() == {c.whatsapp_number.lstrip("+"): 1 for c in opted}
    assert stats.read == 5 and stats.read_rate == 1.0
    meta.inbound_text("905321110000", "STOP")  # the first one writes back STOP
    opted[0].refresh_from_db()
    assert opted[0].whatsapp_consent == "opt_out"
    assert ServiceWindow.objects.filter(number="+905321110000").exists()  # any message opens the window


def test_a_message_without_a_value_fails_with_its_reason_in_english_under_turkish(meta, account):
    """A send reason is stored in one language (English, as the API gives it); the preview, in the
    user's language, names the variable in Turkish."""
    bindings = {**ORDER_BINDINGS, "body": {**ORDER_BINDINGS["body"], "1": {"source": "name", "default": ""}}}
    template = _approved(meta, account, bindings=bindings)
    people = ContactList.objects.create(name="L")
    people.contacts.add(Contact.objects.create(whatsapp_number="+905321110001", whatsapp_consent="opt_in"))
    campaign = campaign_create(name="Adsız", channel="whatsapp", account=account, template=template,
                               audience="list", contact_list=people)  # fmt: skip
    with translation.override("tr"):
        assert "mesaj metnindeki {{1}} (name)" in " ".join(campaign_preview(campaign).notes)
        campaign_start(campaign_id=campaign.pk)
    message = Message.objects.get()
    assert message.status == "failed" and not meta.accepted
    assert message.reason == "no value and no default for the body's {{1}} (name)"


def test_free_text_goes_only_inside_the_window(meta, account):
    Contact.objects.create(whatsapp_number="+905321110003", whatsapp_consent="opt_in")
    outside = whatsapp_send(to="+905321110003", account=account, text="Merhaba")
    assert outside.status == "skipped" and "24 hours" in outside.reason and not meta.accepted
    meta.inbound_text("905321110003", "Siparişim nerede?")
    inside = whatsapp_send(to="+905321110003", account=account, text="Yolda!")
    assert inside.status in ("queued", "sent", "delivered") and len(meta.accepted) == 1


def test_sync_brings_templates_made_at_meta_and_the_command_says_what_is_missing(meta, account, capsys):
    meta.add_template(name="made_at_meta", language="en", category="UTILITY", components=ORDER_COMPONENTS[1:2])
    result = templates_sync(account=account)
    assert result.created >= 1
    made = WhatsAppTemplate.objects.get(name="made_at_meta")
    assert made.status == "APPROVED" and made.text.startswith("Merhaba")
    call_command("whatsapp_templates_sync", "--account", "WA")
    assert "WA: 0 new" in capsys.readouterr().out
    people = ContactList.objects.create(name="L")
    with translation.override("en"), pytest.raises(CommandError, match="bound to nothing"):  # no bindings yet
        call_command("send_campaign", "--channel", "whatsapp", "--list", "L", "--template", "made_at_meta",
                     "--language", "en", "--account", "WA", "--dry-run")  # fmt: skip
    call_command("send_campaign", "--channel", "whatsapp", "--list", "L", "--template", "made_at_meta",
                 "--language", "en", "--var", "1=name|Dear customer", "--var", "2=city|today", "--account", "WA",
                 "--dry-run")  # fmt: skip
    assert "recipients 0" in capsys.readouterr().out and people.pk
    assert Campaign.objects.get().variables == {
        "body": {"1": {"source": "name", "default": "Dear customer"}, "2": {"source": "city", "default": "today"}}
    }
    assert not Message.objects.exists()


def test_the_contact_page_says_whether_the_window_is_open(meta, account, admin_client):
    contact = Contact.objects.create(whatsapp_number="+905321110004", whatsapp_consent="opt_in")
    page = admin_client.get(f"/admin/contacts/contact/{contact.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert "closed: no message from this number yet" in page.content.decode()
    meta.inbound_text("905321110004", "Merhaba")
    page = admin_client.get(f"/admin/contacts/contact/{contact.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert "open until" in page.content.decode() and "through WA" in page.content.decode()


def test_metas_131050_is_a_whatsapp_ret_in_the_ledger(meta, account):
    from consent.models import Consent

    template = _approved(meta, account)
    contact = Contact.objects.create(whatsapp_number="+905321110050", whatsapp_consent="opt_in", phone="+905321110050",
                                     sms_subscription="subscribed")  # fmt: skip
    meta.hold_statuses = True  # the failure comes once the send is recorded (SQLite: one writer at a time)
    message = whatsapp_send(to="+905321110050", account=account, template=template)
    meta.release_statuses()
    meta.wait_for_webhooks()
    message.refresh_from_db()
    assert message.status in ("failed", "rejected") and "131050" in message.raw_status
    contact.refresh_from_db()
    assert contact.whatsapp_consent == "opt_out" and contact.sms_subscription == "subscribed"
    consent = Consent.objects.get(recipient="+905321110050", type="WHATSAPP")
    assert consent.status == "RET" and "131050" in consent.changes.get().origin_ref
