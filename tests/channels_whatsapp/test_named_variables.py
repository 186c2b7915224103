"""Templates with NAMED parameters ({{first_name}}, parameter_format NAMED), made at Meta and synced:
bound to a contact field or attribute with a default, a send carries exactly the named parameters
Meta expects (the fake Cloud API checks each send against its stored template and refuses a name
or a count that differs, 132000), and a contact without the value gets the default."""

import pytest
from django.utils import translation

from channels_whatsapp.models import WhatsAppTemplate
from channels_whatsapp.services import templates_sync
from channels_whatsapp.single import whatsapp_send
from contacts.models import Contact, ContactList
from messaging.models import Message
from messaging.selectors import campaign_preview
from messaging.services import campaign_create, campaign_start

pytestmark = pytest.mark.django_db(transaction=True)

NAMED_BODY = {
    "type": "BODY",
    "text": "Merhaba {{first_name}}, {{city}} mağazamızda indirim var.",
    "example": {
        "body_text_named_params": [
            {"param_name": "first_name", "example": "Ayşe"},
            {"param_name": "city", "example": "İzmir"},
        ]
    },
}
NAMED_HEADER = {
    "type": "HEADER",
    "format": "TEXT",
    "text": "Siparişiniz {{order_no}}",
    "example": {"header_text_named_params": [{"param_name": "order_no", "example": "#123"}]},
}
BINDINGS = {
    "body": {
        "first_name": {"source": "name", "default": "Değerli müşterimiz"},
        "city": {"source": "city", "default": "size en yakın"},
    }
}


def _synced(meta, account, name: str, components: list, bindings: dict | None = None) -> WhatsAppTemplate:
    """A NAMED template made at Meta, mirrored by the sync, then bound as the template page binds it."""
    meta.add_template(name, category="MARKETING", components=components, parameter_format="NAMED")
    templates_sync(account=account)
    template = WhatsAppTemplate.objects.get(account=account, name=name)
    assert template.status == "APPROVED" and template.components == components
    if bindings is not None:
        template.variables = bindings
        template.save(update_fields=["variables", "updated_at"])
    return template


def _parameters(sent: dict, kind: str) -> list[dict]:
    return next(c["parameters"] for c in sent["template"]["components"] if c["type"] == kind)


def _send(meta, **kwargs) -> Message:
    meta.hold_statuses = True  # Meta's statuses come once the send is recorded (SQLite: one writer at a time)
    message = whatsapp_send(**kwargs)
    meta.release_statuses()
    meta.wait_for_webhooks()
    message.refresh_from_db()
    return message


def test_a_named_template_sends_exactly_the_named_parameters_from_the_contact(meta, account):
    template = _synced(meta, account, "named_promo", [NAMED_BODY], BINDINGS)
    Contact.objects.create(whatsapp_number="+905321410001", whatsapp_consent="opt_in",
                           attributes={"name": "Ayşe", "city": "Bursa"})  # fmt: skip
    message = _send(meta, to="+905321410001", account=account, template=template)
    assert meta.recipients() == {"905321410001": 1}  # the fake checked the names against its template
    (sent,) = meta.accepted.values()
    assert sent["template"]["name"] == "named_promo" and sent["key"] == message.key
    assert _parameters(sent, "body") == [
        {"type": "text", "parameter_name": "first_name", "text": "Ayşe"},
        {"type": "text", "parameter_name": "city", "text": "Bursa"},
    ]
    assert message.text == "Merhaba Ayşe, Bursa mağazamızda indirim var."
    assert message.status == "delivered" and message.reason == ""


def test_a_missing_value_takes_its_default(meta, account):
    template = _synced(meta, account, "named_promo", [NAMED_BODY], BINDINGS)
    Contact.objects.create(whatsapp_number="+905321410002", whatsapp_consent="opt_in", attributes={"city": "  "})
    message = _send(meta, to="+905321410002", account=account, template=template)
    (sent,) = meta.accepted.values()
    assert {p["parameter_name"]: p["text"] for p in _parameters(sent, "body")} == {
        "first_name": "Değerli müşterimiz",
        "city": "size en yakın",
    }
    assert message.text == "Merhaba Değerli müşterimiz, size en yakın mağazamızda indirim var."


def test_a_campaign_binds_the_named_variables_and_each_contact_gets_its_own_or_the_default(meta, account):
    template = _synced(meta, account, "named_promo", [NAMED_BODY])  # made at Meta: bound to nothing yet
    people = ContactList.objects.create(name="VIP")
    people.contacts.add(
        Contact.objects.create(whatsapp_number="+905321410003", whatsapp_consent="opt_in",
                               attributes={"name": "Can", "city": "Ankara"}),
        Contact.objects.create(whatsapp_number="+905321410004", whatsapp_consent="opt_in", attributes={"city": "Van"}),
    )  # fmt: skip
    campaign = campaign_create(name="Bahar", channel="whatsapp", account=account, template=template,
                               audience="list", contact_list=people, variables=BINDINGS)  # fmt: skip
    with translation.override("en"):
        preview = campaign_preview(campaign)
    assert preview.sendable == 2 and preview.notes == []
    meta.hold_statuses = True
    campaign_start(campaign_id=campaign.pk)
    meta.release_statuses()
    meta.wait_for_webhooks()
    assert meta.recipients() == {"905321410003": 1, "905321410004": 1}
    named = {
        sent["to"]: {p["parameter_name"]: p["text"] for p in _parameters(sent, "body")}
        for sent in meta.accepted.values()
    }
    assert named == {
        "905321410003": {"first_name": "Can", "city": "Ankara"},
        "905321410004": {"first_name": "Değerli müşterimiz", "city": "Van"},
    }
    assert set(Message.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_named_variable_bound_to_nothing_stops_the_send_and_nothing_leaves(meta, account):
    from django.core.exceptions import ValidationError

    bindings = {"body": {"first_name": {"source": "name", "default": "Müşterimiz"}}}  # city: nothing
    template = _synced(meta, account, "named_promo", [NAMED_BODY], bindings)
    Contact.objects.create(whatsapp_number="+905321410005", whatsapp_consent="opt_in")
    with translation.override("en"), pytest.raises(ValidationError, match=r"the body's \{\{city\}\} is bound to"):
        whatsapp_send(to="+905321410005", account=account, template=template)
    assert meta.accepted == {} and not Message.objects.exists()


def test_a_named_header_sends_its_parameter_by_name(meta, account):
    bindings = {**BINDINGS, "header": {"order_no": {"source": "order_no", "default": "hazır"}}}
    template = _synced(meta, account, "named_order", [NAMED_HEADER, NAMED_BODY], bindings)
    Contact.objects.create(whatsapp_number="+905321410006", whatsapp_consent="opt_in",
                           attributes={"name": "Ece", "order_no": "#77"})  # fmt: skip
    message = _send(meta, to="+905321410006", account=account, template=template)
    assert meta.recipients() == {"905321410006": 1}, message.reason
    (sent,) = meta.accepted.values()
    assert _parameters(sent, "header") == [{"type": "text", "parameter_name": "order_no", "text": "#77"}]
    assert [p["parameter_name"] for p in _parameters(sent, "body")] == ["first_name", "city"]
