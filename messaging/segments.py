"""Segments: the audience builder's conditions (product.md Audiences), one typed language for
campaigns and journeys. A definition is {"match": "all" | "any", "conditions": [...]}; each
condition has a `type` from a fixed set and an `op` from that type's fixed set, so nothing a
user sends ever becomes an ORM lookup. `definition_problems` says in words what is wrong;
`definition_q` turns an accepted definition into one query (relations as EXISTS subqueries, so
"any" and "all" combine without duplicate rows)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Case, Count, Exists, FloatField, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, IContains, In, IsNull, LessThan, Regex
from django.utils import timezone

from consent.models import ConsentStatus, ConsentType
from contacts.models import Contact, ContactList, ContactListMembership, PhoneStatus, SmsSubscription, WhatsAppConsent
from messaging.models import Message, MessageStatus
from providers.base import Channel

MATCH = ("all", "any")
MAX_CONDITIONS = 50
MAX_VALUES = 1000
TEXT_FIELDS = ("external_id", "email", "phone", "whatsapp_number")
CHOICE_FIELDS = {
    "phone_status": PhoneStatus,
    "sms_subscription": SmsSubscription,
    "whatsapp_consent": WhatsAppConsent,
}
CONSENT_TYPES = tuple(ConsentType.values)
CONSENT_STATES = (*ConsentStatus.values, "none")  # none: no consent of that type recorded

# type -> its operators; the values each operator takes are checked below
OPERATORS = {
    "field": ("equals", "not_equals", "any_of", "contains", "is_set", "is_empty"),
    "attribute": ("equals", "not_equals", "any_of", "contains", "is_set", "is_empty", "greater_than", "less_than"),
    "choice": ("is", "is_not", "any_of"),  # phone status, SMS subscription, WhatsApp consent
    "list": ("in", "not_in"),
    "consent": ("is", "is_not"),  # the ledger's current consent of a type (MESAJ, ARAMA, …)
    "sms_received": ("received", "not_received"),
}
NO_VALUE = ("is_set", "is_empty")
NUMBER = r"^ *-?[0-9]+([.][0-9]+)? *$"
PERIODS = ("any_time", "last_days", "on", "between")
RECEIVED = [MessageStatus.DELIVERED]
RECEIVED_OR_UNREPORTED = [MessageStatus.DELIVERED, MessageStatus.SENT]


class SegmentError(ValueError):
    """A definition the builder does not accept, in the user's words."""


def _attribute_name_problem(name) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return "choose the attribute"
    if len(name) > 100 or "__" in name or name.startswith("-"):
        return f"'{name[:60]}' is not an attribute name"
    return None


def _number(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _scalar_problem(value) -> str | None:
    if isinstance(value, bool) or isinstance(value, int | float | str):
        return None
    return "a value is text, a number or true/false"


def _condition_problem(c) -> str | None:
    if not isinstance(c, dict):
        return "a condition is an object"
    kind, op = c.get("type"), c.get("op")
    if kind not in OPERATORS:
        return f"there is no condition '{str(kind)[:40]}'; one of {', '.join(OPERATORS)}"
    if op not in OPERATORS[kind]:
        return f"'{str(op)[:40]}' is not an operator of {kind}; one of {', '.join(OPERATORS[kind])}"
    value = c.get("value")
    if kind == "field":
        if c.get("field") not in TEXT_FIELDS:
            return f"the field is one of {', '.join(TEXT_FIELDS)}"
        if op == "any_of":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                return f"give at least one value for {c['field']}"
            if len(value) > MAX_VALUES:
                return f"at most {MAX_VALUES} values for {c['field']}"
        elif op not in NO_VALUE and (not isinstance(value, str) or value == ""):
            return f"give the value {c['field']} is compared with"
    elif kind == "attribute":
        if problem := _attribute_name_problem(c.get("name")):
            return problem
        if op == "any_of":
            if not isinstance(value, list) or not value:
                return f"give at least one value for '{c['name']}'"
            if len(value) > MAX_VALUES:
                return f"at most {MAX_VALUES} values for '{c['name']}'"
            return next((p for item in value if (p := _scalar_problem(item))), None)
        if op in ("greater_than", "less_than") and _number(value) is None:
            return f"'{c['name']}' is compared with a number; '{str(value)[:40]}' is not one"
        if op not in NO_VALUE:
            if value is None or value == "":
                return f"give the value '{c['name']}' is compared with"
            return _scalar_problem(value)
    elif kind == "choice":
        field = c.get("field")
        if field not in CHOICE_FIELDS:
            return f"the field is one of {', '.join(CHOICE_FIELDS)}"
        values = value if op == "any_of" and isinstance(value, list) else [value]
        if not values or any(v not in CHOICE_FIELDS[field].values for v in values):
            return f"{field} is one of {', '.join(CHOICE_FIELDS[field].values)}"
    elif kind == "list":
        if not isinstance(c.get("list"), int) or isinstance(c.get("list"), bool):
            return "choose the list"
        if not ContactList.objects.filter(pk=c["list"]).exists():
            return "the list no longer exists"
    elif kind == "consent":
        if c.get("consent_type") not in CONSENT_TYPES:
            return f"the consent type is one of {', '.join(CONSENT_TYPES)}"
        if value not in CONSENT_STATES:
            return f"the consent state is one of {', '.join(CONSENT_STATES)}"
    elif kind == "sms_received":
        return _received_problem(c)
    return None


def _received_problem(c: dict) -> str | None:
    campaign, kind = c.get("campaign"), c.get("kind") or ""
    if campaign is not None and (not isinstance(campaign, int) or isinstance(campaign, bool)):
        return "choose the SMS campaign, or any SMS"
    if kind not in ("", "newsletter", "transactional"):
        return "the kind is newsletter, transactional or any"
    times = c.get("min_times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 1000:
        return "how many times is a whole number from 1 to 1000"
    period = c.get("period") or "any_time"
    if period not in PERIODS:
        return f"the period is one of {', '.join(PERIODS)}"
    if period == "last_days":
        days = c.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            return "the number of days is a whole number from 1 to 3650"
    if period == "on" and _date(c.get("on")) is None:
        return "give the date as YYYY-MM-DD"
    if period == "between":
        since, until = _date(c.get("since")), _date(c.get("until"))
        if since is None or until is None:
            return "give both dates as YYYY-MM-DD"
        if until < since:
            return "the second date is before the first"
    return None


def definition_problems(definition) -> list[str]:
    """Everything wrong with a definition, numbered as the builder shows its rows."""
    if not isinstance(definition, dict):
        return ["a segment is an object with 'match' and 'conditions'"]
    problems = []
    if definition.get("match", "all") not in MATCH:
        problems.append("match is 'all' or 'any'")
    conditions = definition.get("conditions", [])
    if not isinstance(conditions, list):
        return [*problems, "conditions is a list"]
    if len(conditions) > MAX_CONDITIONS:
        problems.append(f"at most {MAX_CONDITIONS} conditions")
    for n, condition in enumerate(conditions[:MAX_CONDITIONS], start=1):
        if problem := _condition_problem(condition):
            problems.append(f"condition {n}: {problem}")
    return problems


# --- to a query ---------------------------------------------------------------------------------


def _field_q(c: dict) -> Q:
    name, op, value = c["field"], c["op"], c.get("value")
    empty = Q(**{f"{name}__isnull": True}) | Q(**{name: ""})
    return {
        "equals": lambda: Q(**{name: value}),
        "any_of": lambda: Q(**{f"{name}__in": value}),
        "not_equals": lambda: ~Q(**{name: value}) | Q(**{f"{name}__isnull": True}),
        "contains": lambda: Q(**{f"{name}__icontains": value}),
        "is_set": lambda: ~empty,
        "is_empty": lambda: empty,
    }[op]()


def _attribute_q(c: dict) -> Q:
    name, op, value = c["name"], c["op"], c.get("value")
    text = KT(f"attributes__{name}")  # the value as text: "İzmir", "42", "true"
    has = Q(attributes__has_key=name)
    as_text = lambda v: ("true" if v else "false") if isinstance(v, bool) else str(v)  # noqa: E731
    if op == "equals":
        return Q(Exact(text, as_text(value)))
    if op == "not_equals":
        return ~has | ~Q(Exact(text, as_text(value)))
    if op == "any_of":
        return Q(In(text, [as_text(v) for v in value]))
    if op == "contains":
        return Q(IContains(text, str(value)))
    if op == "is_set":
        return has & ~Q(Exact(text, "")) & Q(IsNull(text, False))
    if op == "is_empty":
        return ~has | Q(Exact(text, "")) | Q(IsNull(text, True))
    # numbers: uploaded values are text ("42"), so the text is read as a number where it is one;
    # the CASE keeps PostgreSQL from casting a text that is not ("İzmir" is neither > nor < 30)
    as_number = Case(When(Regex(text, NUMBER), then=Cast(text, FloatField())), default=None, output_field=FloatField())
    compare = GreaterThan if op == "greater_than" else LessThan
    return Q(compare(as_number, float(_number(value))))


def _choice_q(c: dict) -> Q:
    if c["op"] == "any_of":
        return Q(**{f"{c['field']}__in": c["value"]})
    q = Q(**{c["field"]: c["value"]})
    return q if c["op"] == "is" else ~q


def _list_q(c: dict) -> Q:
    member = Exists(ContactListMembership.objects.filter(contact_id=OuterRef("pk"), contact_list_id=c["list"]))
    return Q(member) if c["op"] == "in" else ~Q(member)


def _consent_q(c: dict) -> Q:
    from consent.models import Consent

    of_type = Consent.objects.filter(contact_id=OuterRef("pk"), type=c["consent_type"])
    if c["value"] == "none":
        q = ~Q(Exists(of_type))
    else:
        q = Q(Exists(of_type.filter(status=c["value"])))
    return q if c["op"] == "is" else ~q


def _istanbul_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _received_q(c: dict, *, now: datetime | None = None) -> Q:
    statuses = RECEIVED_OR_UNREPORTED if c.get("count_unreported") else RECEIVED
    messages = Message.objects.filter(contact_id=OuterRef("pk"), channel=Channel.SMS, status__in=statuses)
    if c.get("campaign") is not None:
        messages = messages.filter(campaign_id=c["campaign"])
    if c.get("kind"):
        messages = messages.filter(kind=c["kind"])
    period = c.get("period") or "any_time"
    if period == "last_days":
        messages = messages.filter(created_at__gte=(now or timezone.now()) - timedelta(days=c["days"]))
    elif period == "on":
        day = _date(c["on"])
        messages = messages.filter(created_at__gte=_istanbul_day(day), created_at__lt=_istanbul_day(day + timedelta(1)))
    elif period == "between":  # both days included
        since, until = _date(c["since"]), _date(c["until"])
        messages = messages.filter(
            created_at__gte=_istanbul_day(since), created_at__lt=_istanbul_day(until + timedelta(1))
        )
    times = c.get("min_times", 1)
    if times == 1:
        q = Q(Exists(messages))
    else:
        counted = messages.order_by().values("contact_id").annotate(n=Count("pk")).values("n")
        q = Q(GreaterThanOrEqual(Coalesce(Subquery(counted, output_field=IntegerField()), Value(0)), times))
    return q if c["op"] == "received" else ~q


BUILDERS = {
    "field": _field_q,
    "attribute": _attribute_q,
    "choice": _choice_q,
    "list": _list_q,
    "consent": _consent_q,
    "sms_received": _received_q,
}


def definition_q(definition: dict) -> Q:
    """The contacts a definition selects (every contact when it has no condition)."""
    if problems := definition_problems(definition):
        raise SegmentError("; ".join(problems))
    parts = [BUILDERS[c["type"]](c) for c in definition.get("conditions", [])]
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined | part) if definition.get("match", "all") == "any" else (combined & part)
    return combined


def segment_contacts(definition: dict):
    return Contact.objects.filter(definition_q(definition))
