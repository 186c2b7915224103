"""Never send a message the consent rules forbid, seen from the provider's side: whatever the
states, the fake Infobip's own books hold exactly the numbers the spec's oracle allows."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import Consent, ConsentChange
from contacts.models import Contact
from messaging.models import Campaign, Message
from messaging.services import campaign_create, campaign_start
from providers.services import account_install
from tests.consent.test_sending_rule import contact_state, make, oracle


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    states=st.lists(contact_state, min_size=1, max_size=10),
    gate=st.sampled_from(["off", "sync", "integrator"]),
    kind=st.sampled_from(["transactional", "newsletter"]),
)
def test_the_provider_receives_exactly_what_the_rule_allows(
    infobip, states, gate, kind, django_capture_on_commit_callbacks
):
    Message.objects.all().delete()
    Campaign.objects.all().delete()
    ConsentChange.objects.all()._raw_delete(ConsentChange.objects.db)  # test reset of an append-only table
    Consent.objects.all().delete()
    Contact.objects.all().delete()
    contacts = make(states, gate)
    account = account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA"},
    )
    infobip.accepted.clear()
    campaign = campaign_create(name="fuzz", kind=kind, account=account, text="Merhaba")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign_id=campaign.pk)
    allowed = {s["phone"][1:] for _, s in contacts if oracle(s, kind=kind, channel="sms", gate=gate)}
    assert set(infobip.recipients()) == allowed
    assert all(n == 1 for n in infobip.recipients().values())
