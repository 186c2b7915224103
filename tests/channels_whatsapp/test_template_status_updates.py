"""Meta's message_template_status_update webhook, signed by the fake Cloud API and posted to the
panel's callback URL (live server), or handed to channels_whatsapp.services.handle_webhook_events as
the webhook processing does: a PAUSED or DISABLED verdict changes the stored template at once (its
status and the reason in words), a paused template starts no campaign and says why, and an update
for a template the panel does not know makes the account sync its templates."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from channels_whatsapp.models import TemplateStatus, WhatsAppTemplate
from channels_whatsapp.services import handle_webhook_events, templates_sync
from channels_whatsapp.single import whatsapp_send
from contacts.models import Contact, ContactList
from messaging.models import Campaign, Message
from messaging.services import campaign_create
from providers.base import TemplateStatusUpdate, WebhookEvents

pytestmark = pytest.mark.django_db(transaction=True)

PROMO = [{"type": "BODY", "text": "Merhaba {{1}}, indirim başladı.", "example": {"body_text": [["Ayşe"]]}}]
BINDINGS = {"body": {"1": {"source": "name", "default": "Müşterimiz"}}}


@pytest.fixture
def promo(meta, account) -> WhatsAppTemplate:
    """An approved template, mirrored from Meta and bound to the contact's name."""
    meta.add_template(name="promo", category="MARKETING", components=PROMO)
    templates_sync(account=account)
    template = WhatsAppTemplate.objects.get(account=account, name="promo")
    WhatsAppTemplate.objects.filter(pk=template.pk).update(variables=BINDINGS)
    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED and template.provider_id
    return template


def _an_hour_ago(template: WhatsAppTemplate) -> WhatsAppTemplate:
    WhatsAppTemplate.objects.filter(pk=template.pk).update(status_at=timezone.now() - timezone.timedelta(hours=1))
    template.refresh_from_db()
    return template


def test_a_paused_verdict_pauses_the_stored_template_at_once_with_its_reason(meta, account, promo):
    before = _an_hour_ago(promo).status_at
    assert meta.pause(promo.provider_id) == 200  # signed, posted to our callback URL, taken
    promo.refresh_from_db()
    assert promo.status == TemplateStatus.PAUSED
    assert promo.status_reason == "FIRST_PAUSE; Your template was paused because of low quality."
    assert promo.status_at > before
    assert not promo.sendable


def test_a_disabled_verdict_disables_the_stored_template_at_once_with_its_reason(meta, account, promo):
    before = _an_hour_ago(promo).status_at
    assert meta.disable(promo.provider_id) == 200
    promo.refresh_from_db()
    assert promo.status == TemplateStatus.DISABLED
    assert promo.status_reason == "disabled on DATE_OF_DISABLE"
    assert promo.status_at > before and not promo.sendable


def test_a_paused_template_refuses_a_new_campaign_with_the_reason_and_nothing_leaves(meta, account, promo):
    people = ContactList.objects.create(name="VIP")
    people.contacts.add(Contact.objects.create(whatsapp_number="+905321310001", whatsapp_consent="opt_in"))
    meta.pause(promo.provider_id)
    promo.refresh_from_db()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        campaign_create(name="Kasım", channel="whatsapp", account=account, template=promo, audience="list",
                        contact_list=people)  # fmt: skip
    words = " ".join(refused.value.messages)
    assert "the template promo (tr) is paused by meta (low quality)" in words
    assert "(FIRST_PAUSE; Your template was paused because of low quality.)" in words
    assert "only an approved template can be sent" in words
    assert not Campaign.objects.exists()
    with translation.override("en"), pytest.raises(ValidationError, match="is paused by meta"):
        whatsapp_send(to="+905321310001", account=account, template=promo)
    assert meta.accepted == {} and not Message.objects.exists()


def test_an_approval_again_makes_the_paused_template_sendable(meta, account, promo):
    """Meta lifts a pause with APPROVED: the stored template follows, and the reason goes."""
    meta.pause(promo.provider_id)
    meta.approve(promo.provider_id)
    promo.refresh_from_db()
    assert promo.status == TemplateStatus.APPROVED and promo.status_reason == ""
    Contact.objects.create(whatsapp_number="+905321310002", whatsapp_consent="opt_in", attributes={"name": "Can"})
    meta.hold_statuses = True
    message = whatsapp_send(to="+905321310002", account=account, template=promo)
    meta.release_statuses()
    meta.wait_for_webhooks()
    assert meta.recipients() == {"905321310002": 1} and message.text == "Merhaba Can, indirim başladı."


def test_an_update_for_a_template_the_panel_does_not_know_makes_the_account_sync(meta, account):
    made_at_meta = meta.add_template(name="made_at_meta", category="UTILITY", components=PROMO, status="PENDING")
    assert not WhatsAppTemplate.objects.filter(name="made_at_meta").exists()
    assert meta.approve(made_at_meta) == 200
    template = WhatsAppTemplate.objects.get(account=account, name="made_at_meta")
    assert template.provider_id == made_at_meta and template.language == "tr"
    assert template.status == TemplateStatus.APPROVED and template.category == "UTILITY"
    assert template.text == "Merhaba {{1}}, indirim başladı."


def test_the_webhook_handler_syncs_the_account_for_a_template_it_does_not_know(meta, account, promo):
    """handle_webhook_events as the webhook processing calls it (a transactional test: the sync it
    queues on commit runs at once, in-process)."""
    other = meta.add_template(name="spring_sale", language="en", components=PROMO)
    update = TemplateStatusUpdate(template_id=other, name="spring_sale", language="en", status="APPROVED")
    handle_webhook_events(account_id=account.pk, events=WebhookEvents(template_updates=[update]))
    synced = WhatsAppTemplate.objects.get(account=account, name="spring_sale")
    assert synced.provider_id == other and synced.language == "en" and synced.status == TemplateStatus.APPROVED
    promo.refresh_from_db()
    assert promo.status == TemplateStatus.APPROVED and promo.variables == BINDINGS  # a sync keeps the bindings


def test_an_update_matches_by_name_and_language_when_the_id_is_not_ours(meta, account, promo):
    events = WebhookEvents(
        template_updates=[
            TemplateStatusUpdate(template_id="999", name="promo", language="tr", status="PAUSED", reason="low quality")
        ]
    )
    handle_webhook_events(account_id=account.pk, events=events)
    promo.refresh_from_db()
    assert promo.status == TemplateStatus.PAUSED and promo.status_reason == "low quality"


def test_a_sync_after_a_pause_keeps_the_reason_the_webhook_gave(meta, account, promo):
    """Meta's template list says PAUSED without the reason: the next sync keeps the webhook's."""
    assert meta.pause(promo.provider_id) == 200
    templates_sync(account=account)
    promo.refresh_from_db()
    assert promo.status == TemplateStatus.PAUSED
    assert promo.status_reason == "FIRST_PAUSE; Your template was paused because of low quality."
