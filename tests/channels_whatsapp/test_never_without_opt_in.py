"""Never send WhatsApp that the rules forbid, seen from the fake Meta's own books: no message to a
contact without a WhatsApp number and opt-in, none of a template that is not approved (when the
campaign starts, or when the message goes), no free text outside the 24-hour window."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_whatsapp.models import ServiceWindow, WhatsAppTemplate
from channels_whatsapp.single import whatsapp_send
from consent.models import Consent, ConsentChange
from contacts.models import Contact, ContactList
from messaging.dispatch import campaign_dispatch
from messaging.models import Campaign, Message
from messaging.services import CampaignError, campaign_create, campaign_prepare, campaign_start
from providers.models import ProviderAccount
from providers.services import account_install
from tests.consent.test_sending_rule import contact_state, make, oracle

pytestmark = pytest.mark.django_db
STATUSES = ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", ""]
BODY = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]
BINDINGS = {"body": {"1": {"source": "name", "default": "Müşterimiz"}}}


def _reset():
    Message.objects.all().delete()
    Campaign.objects.all().delete()
    WhatsAppTemplate.objects.all().delete()
    ServiceWindow.objects.all().delete()
    ConsentChange.objects.all()._raw_delete(ConsentChange.objects.db)  # test reset of an append-only table
    Consent.objects.all().delete()
    Contact.objects.all().delete()
    ContactList.objects.all().delete()


def _account(fake):
    ProviderAccount.objects.filter(connector="whatsapp").delete()
    return account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": fake.url, "waba_id": fake.waba_id, "phone_number_id": fake.phone_number_id,
                "access_token": fake.access_token, "app_secret": fake.app_secret},
    )  # fmt: skip


def _template(fake, account, status="APPROVED", category="MARKETING"):
    fake.templates.clear()
    fake.add_template("promo", category=category, components=BODY, status=status or "PENDING")
    return WhatsAppTemplate.objects.create(
        account=account, name="promo", language="tr", category=category, status=status, components=BODY,
        variables=BINDINGS, text="Merhaba {{1}}", provider_id="" if not status else "1",
    )  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    states=st.lists(contact_state, min_size=1, max_size=8),
    status=st.sampled_from(STATUSES),
    category=st.sampled_from(["MARKETING", "UTILITY"]),
)
def test_a_campaign_reaches_exactly_the_opted_in_numbers_and_only_with_an_approved_template(
    fake, states, status, category, django_capture_on_commit_callbacks
):
    _reset()
    contacts = make(states, "off")
    account = _account(fake)
    template = _template(fake, account, status, category)
    everyone = ContactList.objects.create(name="all")
    everyone.contacts.add(*[c for c, _ in contacts])
    fake.accepted.clear()
    try:
        campaign = campaign_create(
            name="fuzz", channel="whatsapp", account=account, template=template, audience="list", contact_list=everyone
        )
        with django_capture_on_commit_callbacks(execute=True):
            campaign_start(campaign_id=campaign.pk)
    except (ValidationError, CampaignError) as exc:
        assert status != "APPROVED", exc  # refused only for a template that is not approved
        assert not fake.accepted
        return
    assert status == "APPROVED"
    allowed = {
        s["wa_number"] and c.whatsapp_number[1:]
        for c, s in contacts
        if oracle(s, kind="x", channel="whatsapp", gate="off")
    }
    assert set(fake.recipients()) == allowed and all(n == 1 for n in fake.recipients().values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    state=contact_state,
    status=st.sampled_from(STATUSES),
    free_text=st.booleans(),
    window=st.sampled_from(["none", "open", "closed"]),
)
def test_a_single_message_goes_only_where_every_rule_allows(fake, state, status, free_text, window):
    _reset()
    [(contact, state)] = make([state], "off")
    account = _account(fake)
    template = _template(fake, account, status)
    number = contact.whatsapp_number or "+905440000000"
    if window != "none":
        from datetime import timedelta

        from django.utils import timezone

        age = timedelta(hours=1) if window == "open" else timedelta(hours=25)
        ServiceWindow.objects.create(account=account, number=number, last_inbound_at=timezone.now() - age)
        fake.last_inbound[number[1:]] = (timezone.now() - age).timestamp()
    fake.accepted.clear()
    try:
        if free_text:
            message = whatsapp_send(to=number, account=account, text="Merhaba")
        else:
            message = whatsapp_send(to=number, account=account, template=template)
    except ValidationError:
        assert not free_text and status != "APPROVED"
        assert not fake.accepted
        return
    may = oracle(state, kind="x", channel="whatsapp", gate="off") and (
        window == "open" if free_text else status == "APPROVED"
    )
    assert bool(fake.accepted) == may, (state, status, free_text, window, message.status, message.reason)
    assert len(fake.accepted) <= 1


def test_a_template_paused_after_the_start_stops_the_rest(fake, django_capture_on_commit_callbacks):
    account = _account(fake)
    template = _template(fake, account)
    people = ContactList.objects.create(name="p")
    people.contacts.add(
        *[Contact.objects.create(whatsapp_number=f"+90544100{i:04d}", whatsapp_consent="opt_in") for i in range(3)]
    )
    campaign = campaign_create(
        name="c", channel="whatsapp", account=account, template=template, audience="list", contact_list=people
    )
    campaign_start(campaign_id=campaign.pk)  # rows are made by the task (not run here)
    campaign_prepare(campaign_id=campaign.pk)
    WhatsAppTemplate.objects.filter(pk=template.pk).update(status="PAUSED", status_reason="low quality")
    campaign_dispatch(campaign_id=campaign.pk)
    assert not fake.accepted
    assert set(Message.objects.values_list("status", flat=True)) == {"failed"}
    assert "paused" in Message.objects.first().reason


def test_an_opt_out_after_the_start_skips_that_number(fake):
    account = _account(fake)
    template = _template(fake, account)
    people = ContactList.objects.create(name="p")
    ayse, can = (Contact.objects.create(whatsapp_number=f"+90544200000{i}", whatsapp_consent="opt_in") for i in (1, 2))
    people.contacts.add(ayse, can)
    campaign = campaign_create(
        name="c", channel="whatsapp", account=account, template=template, audience="list", contact_list=people
    )
    campaign_start(campaign_id=campaign.pk)
    campaign_prepare(campaign_id=campaign.pk)
    Contact.objects.filter(pk=can.pk).update(whatsapp_consent="opt_out")  # a STOP arrived meanwhile
    campaign_dispatch(campaign_id=campaign.pk)
    assert fake.recipients() == {"905442000001": 1}
    assert Message.objects.get(contact=can).status == "skipped"
