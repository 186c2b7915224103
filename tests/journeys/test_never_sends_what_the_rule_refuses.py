"""Never send what the sending rule refuses, whatever the journey's graph and whatever consent does
between steps: hypothesis draws graphs (sends on both channels, conditions, waits for delivery),
contacts' states, RETs and WhatsApp opt-outs arriving between rounds, and delivery outcomes; by
the fakes' own books, every message that left went to a contact the spec's oracle allowed at that
moment, no message left twice, and every step ran at most once per enrolment."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from channels_whatsapp.models import WhatsAppTemplate
from consent.contact_changes import consent_opt_out_by_reply, consent_whatsapp_opt_out
from consent.models import Consent, ConsentChange
from contacts.models import Contact, ContactList
from contacts.services import contact_list_add
from journeys.engine import enrolments_run_due
from journeys.graph import definition_problems, reachable, steps_of
from journeys.models import Enrolment, EnrolmentStep, Journey
from journeys.services import journey_activate, journey_save_steps
from messaging.delivery import messages_apply_reports
from messaging.models import Message
from providers.base import DeliveryReport
from providers.services import account_install
from tests.consent.test_sending_rule import contact_state, make, oracle
from tests.journeys.conftest import BODY


@st.composite
def graphs(draw):
    """A journey of 1-5 steps in a row, each branch going to a later step or ending (no loops)."""
    n = draw(st.integers(1, 5))
    steps, sends = {}, []

    def later(i):
        return draw(st.sampled_from(["", *[f"s{j}" for j in range(i + 1, n)]]))

    for i in range(n):
        kinds = ["send_sms", "send_whatsapp", "condition"] + (["wait_delivery"] if sends else [])
        kind = draw(st.sampled_from(kinds))
        sid = f"s{i}"
        if kind == "send_sms":
            step = {"text": "Merhaba", "kind": draw(st.sampled_from(["newsletter", "transactional"]))}
            step.update(next=later(i), not_sent=later(i))
            sends.append(sid)
        elif kind == "send_whatsapp":
            step = {"template": "promo", "language": "tr", "next": later(i), "not_sent": later(i)}
            sends.append(sid)
        elif kind == "condition":
            value = draw(st.sampled_from(["a", "b"]))
            step = {
                "conditions": {"match": "all", "conditions": [{"type": "attribute", "name": "x", "op": "equals",
                                                               "value": value}]},
                "yes": later(i),
                "no": later(i),
            }  # fmt: skip
        else:
            step = {"of": draw(st.sampled_from(sends)), "seconds": 60, "delivered": later(i), "not_delivered": later(i)}
        steps[sid] = {"type": kind, **step}
    definition = {"start": "s0", "steps": steps}
    reached = reachable(steps_of(definition), "s0")
    definition["steps"] = {sid: step for sid, step in steps.items() if sid in reached}
    assume(not definition_problems(definition))  # a wait for a send not on every path before it
    return definition


def allowed_now(gate) -> dict[tuple[str, str], set[int]]:
    """(kind, channel) → the contacts the spec's oracle allows now, read from the database."""
    consents = {c.recipient: c for c in Consent.objects.filter(type="MESAJ")}
    allowed = {}
    for contact in Contact.objects.all():
        consent = consents.get(contact.phone or "")
        state = {
            "phone": contact.phone,
            "phone_status": contact.phone_status,
            "sub": contact.sms_subscription,
            "consent": consent.status if consent else None,
            "confirmed": bool(consent and consent.iys_confirmed_at),
            "wa_number": bool(contact.whatsapp_number),
            "wa_consent": contact.whatsapp_consent,
        }
        for kind in ("newsletter", "transactional"):
            for channel in ("sms", "whatsapp"):
                if oracle(state, kind=kind, channel=channel, gate=gate):
                    allowed.setdefault((kind, channel), set()).add(contact.pk)
    return allowed


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    states=st.lists(contact_state, min_size=1, max_size=6),
    gate=st.sampled_from(["off", "sync", "integrator"]),
    definition=graphs(),
    attributes=st.lists(st.sampled_from(["a", "b"]), min_size=6, max_size=6),
    rounds=st.lists(
        st.fixed_dictionaries(
            {
                "sms_ret": st.lists(st.integers(0, 5), max_size=3),
                "wa_out": st.lists(st.integers(0, 5), max_size=3),
                "delivered": st.lists(st.booleans(), min_size=6, max_size=6),
            }
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_a_journey_never_sends_what_the_rule_refuses(
    infobip, meta, states, gate, definition, attributes, rounds, django_capture_on_commit_callbacks
):
    for model in (EnrolmentStep, Enrolment, Journey, Message, WhatsAppTemplate):
        model.objects.all().delete()
    ConsentChange.objects.all()._raw_delete(ConsentChange.objects.db)  # test reset of an append-only table
    Consent.objects.all().delete()
    Contact.objects.all().delete()
    infobip.accepted.clear()
    meta.accepted.clear()
    contacts = [contact for contact, _state in make(states, gate)]
    for contact, value in zip(contacts, attributes, strict=False):
        Contact.objects.filter(pk=contact.pk).update(attributes={"x": value})
    account_install(
        name="Infobip", connector="infobip",
        values={"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA"},
    )  # fmt: skip
    wa = account_install(
        name="WA", connector="whatsapp",
        values={"base_url": meta.url, "waba_id": meta.waba_id, "phone_number_id": meta.phone_number_id,
                "access_token": meta.access_token, "app_secret": meta.app_secret},
    )  # fmt: skip
    meta.add_template("promo", category="MARKETING", components=BODY, status="APPROVED")
    WhatsAppTemplate.objects.create(
        account=wa, name="promo", language="tr", category="MARKETING", status="APPROVED", components=BODY,
        variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, text="Merhaba {{1}}", provider_id="1",
    )  # fmt: skip
    journey = Journey.objects.create(
        name="fuzz", entry="list", entry_list=ContactList.objects.get_or_create(name="fuzz")[0]
    )
    journey_save_steps(journey=journey, definition=definition)
    journey = journey_activate(journey=journey)

    first = True
    for round_ in rounds:
        if not first:  # between steps: RETs and opt-outs arrive, reports come in, time passes
            phones = [contacts[i].phone for i in round_["sms_ret"] if i < len(contacts) and contacts[i].phone]
            if phones:
                consent_opt_out_by_reply(recipients=phones, origin_ref="fuzz")
            numbers = [
                c.whatsapp_number for i in round_["wa_out"] if i < len(contacts) and (c := contacts[i]).whatsapp_number
            ]
            if numbers:
                consent_whatsapp_opt_out(numbers=numbers, origin="inbound", origin_ref="fuzz")
            for message, delivered in zip(Message.objects.order_by("pk"), round_["delivered"], strict=False):
                report = DeliveryReport(status="delivered" if delivered else "undelivered", key=message.key)
                with django_capture_on_commit_callbacks(execute=True):
                    messages_apply_reports(account_id=message.account_id, reports=[report])
            Enrolment.objects.filter(state="active").update(
                due_at=timezone.now(), arrived_at=timezone.now() - timedelta(seconds=61)
            )
            Message.objects.exclude(sent_at=None).update(sent_at=timezone.now() - timedelta(seconds=61))
        allowed = allowed_now(gate)
        before = set(Message.objects.exclude(sent_at=None).values_list("pk", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            if first:
                contact_list_add(contact_list=journey.entry_list, contact_ids=[c.pk for c in contacts])
            else:
                enrolments_run_due()
        first = False
        for message in Message.objects.exclude(sent_at=None).exclude(pk__in=before):
            assert message.contact_id in allowed.get((message.kind, message.channel), set()), (
                f"{message.channel} {message.kind} to contact {message.contact_id} left though the rule refuses it"
            )
    assert infobip.duplicates == 0
    assert all(n == 1 for n in meta.keys().values())
    left = {m.key for m in Message.objects.exclude(sent_at=None)}
    assert sum(infobip.recipients().values()) + sum(meta.recipients().values()) == len(left)
