"""product.md 'Who may receive': never send what the consent rules forbid. The rule is checked
against an independent oracle written from the spec's sentences, over random states."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import Consent
from consent.selectors import Exclusion, contact_with_exclusion, exclusion_counts, is_sendable, sendable
from contacts.models import Contact
from providers.models import ProviderAccount
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory

DATE = datetime(2025, 5, 15, 12, 0, tzinfo=ZoneInfo("Europe/Istanbul"))


def oracle(state, *, kind, channel, gate) -> bool:
    """The spec, sentence by sentence."""
    if channel == "whatsapp":
        return bool(state["wa_number"]) and state["wa_consent"] == "opt_in"
    if not state["phone"] or state["phone_status"] != "active":  # phone status Active only
        return False
    if kind == "transactional":  # Subscribed, Not subscribed or None
        return True
    if state["sub"] != "subscribed":  # newsletter needs Subscribed
        return False
    if gate != "off" and state["phone"].startswith("+90"):  # İYS MESAJ ONAY for +90 when installed
        if state["consent"] != "ONAY":
            return False
        if gate == "integrator" and not state["confirmed"]:  # confirmed by İYS in Integrator mode
            return False
    return True


contact_state = st.fixed_dictionaries(
    {
        "phone": st.sampled_from([None, "+90533", "+44791"]),
        "phone_status": st.sampled_from(["active", "bounced", "paused"]),
        "sub": st.sampled_from(["subscribed", "not_subscribed", "none"]),
        "consent": st.sampled_from([None, "ONAY", "RET"]),
        "confirmed": st.booleans(),
        "wa_number": st.booleans(),
        "wa_consent": st.sampled_from(["opt_in", "opt_out", "unknown"]),
    }
)


def make(states, gate):
    ProviderAccount.objects.all().delete()
    if gate != "off":  # the İYS connector row, as its install will write it (issue: İYS connector)
        ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": gate})
    contacts = []
    for i, s in enumerate(states):
        phone = f"{s['phone']}{i:07d}" if s["phone"] else None
        contact = Contact.objects.create(
            phone=phone,
            phone_status=s["phone_status"],
            sms_subscription=s["sub"],
            whatsapp_number=f"+90544{i:07d}" if s["wa_number"] else None,
            whatsapp_consent=s["wa_consent"],
        )
        if s["consent"] and phone:
            Consent.objects.create(
                recipient=phone,
                type="MESAJ",
                status=s["consent"],
                consent_date=DATE,
                source="HS_WEB",
                contact=contact,
                iys_confirmed_at=DATE if s["confirmed"] else None,
            )
        contacts.append((contact, {**s, "phone": phone}))
    return contacts


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(contact_state, min_size=1, max_size=12), gate=st.sampled_from(["off", "sync", "integrator"]))
def test_the_rule_never_lets_through_what_the_spec_forbids(states, gate):
    Consent.objects.all().delete()
    Contact.objects.all().delete()
    contacts = make(states, gate)
    for channel in ("sms", "whatsapp"):
        for kind in ("transactional", "newsletter"):
            allowed = set(sendable(kind=kind, channel=channel).values_list("pk", flat=True))
            for contact, state in contacts:
                expected = oracle(state, kind=kind, channel=channel, gate=gate)
                assert (contact.pk in allowed) == expected, (state, kind, channel, gate)
                ok, reason = is_sendable(contact_id=contact.pk, kind=kind, channel=channel)
                assert ok == expected and (reason == "") == expected
                # a single send to a number looks the contact up and judges it in one statement
                field = "phone" if channel == "sms" else "whatsapp_number"
                if value := getattr(contact, field):
                    found, verdict = contact_with_exclusion(field=field, value=value, kind=kind, channel=channel)
                    assert (found.pk, found.phone, found.attributes) == (contact.pk, contact.phone, contact.attributes)
                    assert verdict == reason
            counts = exclusion_counts(kind=kind, channel=channel)
            assert counts.get("", 0) == len(allowed) and sum(counts.values()) == len(contacts)


@pytest.mark.django_db
def test_each_exclusion_has_a_reason_the_marketer_can_read():
    ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "integrator"})
    cases = {
        Exclusion.NO_PHONE: ContactFactory(phone=None, sms_subscription="subscribed"),
        Exclusion.BOUNCED: ContactFactory(phone_status="bounced", sms_subscription="subscribed"),
        Exclusion.PAUSED: ContactFactory(phone_status="paused", sms_subscription="subscribed"),
        Exclusion.NOT_SUBSCRIBED: ContactFactory(sms_subscription="none"),
        Exclusion.NO_IYS_ONAY: ContactFactory(sms_subscription="subscribed"),
        Exclusion.AWAITING_IYS: ContactFactory(sms_subscription="subscribed"),
    }
    Consent.objects.create(
        recipient=cases[Exclusion.AWAITING_IYS].phone, type="MESAJ", status="ONAY", consent_date=DATE, source="HS_WEB"
    )
    for reason, contact in cases.items():
        assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (False, reason)
        assert Exclusion(reason).label
    counts = exclusion_counts(kind="newsletter", channel="sms")
    assert all(counts[r] == 1 for r in cases) and "" not in counts


@pytest.mark.django_db
def test_a_citizen_ret_stops_commercial_sms_at_once():
    from consent.services import ConsentInput, consent_apply

    ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
    contact = ContactFactory(phone="+905331234562")
    record_onay(contact, when=DATE)
    assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (True, "")
    consent_apply(
        changes=[
            ConsentInput(
                recipient=contact.phone, type="MESAJ", status="RET", consent_date=DATE.replace(day=16), source="IYS_WEB"
            )
        ],
        origin="iys_pull",
    )
    ok, reason = is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms")
    assert not ok and reason == Exclusion.NOT_SUBSCRIBED  # RET also set Not subscribed: the first reason
    assert is_sendable(contact_id=contact.pk, kind="transactional", channel="sms") == (True, "")


def test_unknown_kind_or_channel_is_refused():
    from consent.selectors import exclusion_expression

    with pytest.raises(ValueError):
        exclusion_expression(kind="promo", channel="sms", gate="off")
    with pytest.raises(ValueError):
        exclusion_expression(kind="newsletter", channel="iys", gate="off")
