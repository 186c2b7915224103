"""Segments (product.md Audiences): each condition type and operator selects exactly the contacts
a plain-Python reading of the same condition selects (hypothesis over contacts and definitions),
"all" and "any" combine them, bad definitions are refused in words, user text is never a lookup,
and a campaign aimed at a segment previews and sends to its contacts only."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.models import Consent
from contacts.models import Contact, ContactList
from messaging.models import Audience, Campaign, Message, Segment
from messaging.segments import definition_problems, definition_q
from messaging.selectors import campaign_audience
from providers.services import account_install

pytestmark = pytest.mark.django_db

CITIES = ["İzmir", "Ankara", "", "42", "7.5"]
NOW = timezone.now()


@pytest.fixture
def world(django_db_blocker):
    """Contacts with every kind of value, lists, consents and received SMS."""
    account = account_install(name="Console", connector="console", values={"sender": "MARKA"})
    vip = ContactList.objects.create(name="VIP")
    campaign = Campaign.objects.create(name="Ekim", account=account, sender="MARKA", text="x", status="done")
    contacts = []
    for n in range(24):
        attributes = {}
        if n % 5:
            attributes["city"] = CITIES[n % len(CITIES)]
        if n % 3 == 0:
            attributes["age"] = n * 3 if n % 2 else str(n * 3)  # numbers and numbers as text
        if n % 7 == 0:
            attributes["vip"] = True
        contact = Contact.objects.create(
            external_id=f"c-{n}",
            phone=f"+90532{n:07d}" if n % 6 else None,
            email=f"u{n}@example.com" if n % 4 else "",
            attributes=attributes,
            phone_status=["active", "bounced", "paused"][n % 3],
            sms_subscription=["subscribed", "not_subscribed", "none"][n % 3],
            whatsapp_consent=["opt_in", "opt_out", "unknown"][(n // 2) % 3],
        )
        if n % 2:
            vip.contacts.add(contact)
        if n % 4 == 1:
            Consent.objects.create(
                recipient=contact.phone or f"x{n}", type="MESAJ", status="ONAY" if n % 8 == 1 else "RET",
                consent_date=NOW, source="HS_WEB", contact=contact,
            )  # fmt: skip
        for k in range(n % 4):  # 0-3 messages; delivered, sent (no report) or failed
            status = ["delivered", "sent", "failed"][(n + k) % 3]
            message = Message.objects.create(
                channel="sms", kind="newsletter" if k % 2 == 0 else "transactional", account=account,
                campaign=campaign if k == 0 else None, contact=contact, to=contact.phone or "+905320000000",
                status=status,
            )  # fmt: skip
            Message.objects.filter(pk=message.pk).update(created_at=NOW - timedelta(days=10 * k))
        contacts.append(contact)
    return {"contacts": contacts, "vip": vip, "campaign": campaign}


def text_of(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def number_of(value):
    try:
        return float(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        return None


def oracle(contact: Contact, c: dict, world) -> bool:
    """What the condition means, read in plain Python over one contact."""
    op, value = c["op"], c.get("value")
    if c["type"] == "field":
        v = getattr(contact, c["field"]) or ""
        return {
            "equals": lambda: v == value,
            "not_equals": lambda: v != value,
            "any_of": lambda: v in value,
            "contains": lambda: value.casefold() in v.casefold(),
            "is_set": lambda: v != "",
            "is_empty": lambda: v == "",
        }[op]()
    if c["type"] == "attribute":
        present = c["name"] in contact.attributes
        v = text_of(contact.attributes[c["name"]]) if present else None
        if op in ("greater_than", "less_than"):
            n = number_of(contact.attributes.get(c["name"])) if present else None
            return n is not None and (n > float(value) if op == "greater_than" else n < float(value))
        return {
            "equals": lambda: v == text_of(value),
            "not_equals": lambda: v != text_of(value),
            "any_of": lambda: v in [text_of(x) for x in value],
            "contains": lambda: v is not None and str(value).casefold() in v.casefold(),
            "is_set": lambda: v not in (None, ""),
            "is_empty": lambda: v in (None, ""),
        }[op]()
    if c["type"] == "choice":
        v = getattr(contact, c["field"])
        return v in value if op == "any_of" else (v == value) == (op == "is")
    if c["type"] == "list":
        return contact.memberships.filter(contact_list_id=c["list"]).exists() == (op == "in")
    if c["type"] == "consent":
        found = {x.status for x in Consent.objects.filter(contact=contact, type=c["consent_type"])}
        hit = (not found) if value == "none" else (value in found)
        return hit == (op == "is")
    if c["type"] == "sms_received":
        statuses = {"delivered", "sent"} if c.get("count_unreported") else {"delivered"}
        messages = [m for m in Message.objects.filter(contact=contact, channel="sms") if m.status in statuses]
        if c.get("campaign") is not None:
            messages = [m for m in messages if m.campaign_id == c["campaign"]]
        if c.get("kind"):
            messages = [m for m in messages if m.kind == c["kind"]]
        if c.get("period") == "last_days":
            messages = [m for m in messages if m.created_at >= NOW - timedelta(days=c["days"])]
        if c.get("period") == "on":
            messages = [m for m in messages if timezone.localtime(m.created_at).date() == date.fromisoformat(c["on"])]
        hit = len(messages) >= c.get("min_times", 1)
        return hit == (op == "received")
    raise AssertionError(c)


def conditions(world):
    values = st.sampled_from(["İzmir", "izm", "Ankara", "42", "x", "true"])
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("field"), "field": st.sampled_from(["email", "phone", "external_id"]),
                               "op": st.sampled_from(["equals", "not_equals", "contains", "is_set", "is_empty"]),
                               "value": st.sampled_from(["u1@example.com", "example", "c-3", "+905320000007"])}),
        st.fixed_dictionaries({"type": st.just("attribute"), "name": st.sampled_from(["city", "age", "vip", "none"]),
                               "op": st.sampled_from(["equals", "not_equals", "contains", "is_set", "is_empty"]),
                               "value": values}),
        st.fixed_dictionaries({"type": st.just("attribute"), "name": st.sampled_from(["city", "age"]),
                               "op": st.sampled_from(["greater_than", "less_than"]),
                               "value": st.sampled_from([0, 10, 30, "7", 40.5])}),
        st.fixed_dictionaries({"type": st.just("attribute"), "name": st.sampled_from(["city", "vip"]),
                               "op": st.just("any_of"), "value": st.lists(values, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"type": st.just("choice"), "field": st.just("sms_subscription"),
                               "op": st.sampled_from(["is", "is_not"]),
                               "value": st.sampled_from(["subscribed", "not_subscribed", "none"])}),
        st.fixed_dictionaries({"type": st.just("choice"), "field": st.just("phone_status"), "op": st.just("any_of"),
                               "value": st.lists(st.sampled_from(["active", "bounced", "paused"]), min_size=1)}),
        st.fixed_dictionaries({"type": st.just("list"), "op": st.sampled_from(["in", "not_in"]),
                               "list": st.just(world["vip"].pk)}),
        st.fixed_dictionaries({"type": st.just("consent"), "consent_type": st.sampled_from(["MESAJ", "ARAMA"]),
                               "op": st.sampled_from(["is", "is_not"]),
                               "value": st.sampled_from(["ONAY", "RET", "none"])}),
        st.fixed_dictionaries({"type": st.just("sms_received"), "op": st.sampled_from(["received", "not_received"]),
                               "campaign": st.sampled_from([None, world["campaign"].pk]),
                               "kind": st.sampled_from(["", "newsletter", "transactional"]),
                               "period": st.sampled_from(["any_time", "last_days"]), "days": st.sampled_from([5, 15]),
                               "min_times": st.sampled_from([1, 2]), "count_unreported": st.booleans()}),
    )  # fmt: skip


def test_every_condition_selects_what_it_says(world):
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(conditions(world), min_size=0, max_size=3), st.sampled_from(["all", "any"]))
    def check(items, match):
        definition = {"match": match, "conditions": items}
        assert definition_problems(definition) == []
        got = set(Contact.objects.filter(definition_q(definition)).values_list("external_id", flat=True))
        combine = all if match == "all" else any
        expected = {
            c.external_id
            for c in world["contacts"]
            if not items or combine(oracle(c, condition, world) for condition in items)
        }
        assert got == expected, definition

    check()


def test_a_date_is_a_day_in_istanbul(world):
    contact = world["contacts"][3]  # 3 messages: 0, 10 and 20 days ago
    message = Message.objects.filter(contact=contact).order_by("created_at").first()
    late = timezone.make_aware(datetime(2026, 11, 30, 23, 30), timezone.get_current_timezone())  # 20:30 UTC
    Message.objects.filter(pk=message.pk).update(created_at=late, status="delivered")
    on = {"type": "sms_received", "op": "received", "period": "on", "on": "2026-11-30"}
    assert contact in Contact.objects.filter(definition_q({"conditions": [on]}))
    assert contact not in Contact.objects.filter(definition_q({"conditions": [{**on, "on": "2026-12-01"}]}))
    between = {
        "type": "sms_received",
        "op": "received",
        "period": "between",
        "since": "2026-11-29",
        "until": "2026-11-30",
    }
    assert contact in Contact.objects.filter(definition_q({"conditions": [between]}))


@pytest.mark.parametrize(
    "definition, words",
    [
        ([], "a segment is an object"),
        ({"match": "some"}, "match is 'all' or 'any'"),
        ({"conditions": [{"type": "regex", "op": "x"}]}, "condition 1: there is no condition 'regex'"),
        (
            {"conditions": [{"type": "attribute", "name": "city__regex", "op": "equals", "value": "x"}]},
            "not an attribute name",
        ),
        ({"conditions": [{"type": "field", "field": "password", "op": "equals", "value": "x"}]}, "the field is one of"),
        (
            {"conditions": [{"type": "attribute", "name": "age", "op": "greater_than", "value": "ten"}]},
            "is compared with a number",
        ),
        ({"conditions": [{"type": "attribute", "name": "city", "op": "equals", "value": {"a": 1}}]}, "a value is text"),
        ({"conditions": [{"type": "list", "op": "in", "list": 99999}]}, "the list no longer exists"),
        ({"conditions": [{"type": "consent", "consent_type": "FAX", "op": "is", "value": "ONAY"}]}, "the consent type"),
        (
            {"conditions": [{"type": "sms_received", "op": "received", "period": "on", "on": "31.02.2026"}]},
            "YYYY-MM-DD",
        ),
        ({"conditions": [{"type": "sms_received", "op": "received", "min_times": 0}]}, "from 1 to 1000"),
        (
            {"conditions": [{"type": "choice", "field": "phone_status", "op": "is", "value": "lost"}]},
            "phone_status is one of",
        ),
    ],
)
def test_a_bad_definition_is_refused_in_words(definition, words):
    problems = definition_problems(definition)
    assert problems and words in problems[0], problems


def test_a_campaign_aimed_at_a_segment_reaches_its_contacts_only(world):
    segment = Segment.objects.create(
        name="Ankara",
        definition={"conditions": [{"type": "attribute", "name": "city", "op": "equals", "value": "Ankara"}]},
    )
    campaign = Campaign.objects.create(
        name="Kasım",
        account=world["campaign"].account,
        sender="MARKA",
        text="x",
        audience=Audience.SEGMENT,
        segment=segment,
    )
    expected = {c.pk for c in world["contacts"] if c.attributes.get("city") == "Ankara"}
    assert expected and set(campaign_audience(campaign).values_list("pk", flat=True)) == expected
    ContactList.objects.all().delete()
    segment.definition = {"conditions": [{"type": "list", "op": "in", "list": world["vip"].pk}]}
    segment.save()
    assert not campaign_audience(campaign).exists()  # the list is gone: nobody, never everybody


def test_numbers_as_text_compare_as_numbers(world):
    over_30 = {"conditions": [{"type": "attribute", "name": "age", "op": "greater_than", "value": 30}]}
    got = set(Contact.objects.filter(definition_q(over_30)).values_list("external_id", flat=True))
    assert got == {"c-12", "c-15", "c-18", "c-21"}  # "36" and "54" are text, 45 and 63 numbers
    under_10 = {"conditions": [{"type": "attribute", "name": "city", "op": "less_than", "value": 10}]}
    got = set(Contact.objects.filter(definition_q(under_10)).values_list("external_id", flat=True))
    assert got == {c.external_id for c in world["contacts"] if c.attributes.get("city") == "7.5"}  # not "İzmir"
