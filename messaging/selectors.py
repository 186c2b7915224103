"""Read queries for campaigns and messages of every channel: audiences, the preview, statistics
and the "SMS received" condition (product.md SMS channel)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.dateformat import format as date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from consent.selectors import SENDABLE, Exclusion, audience_with_exclusions, exclusion_counts
from contacts.models import Contact
from messaging.channels import MessageCost, adapter, needs_confirmation
from messaging.models import Audience, Campaign, Message, MessageStatus
from messaging.rendering import contact_values
from messaging.variables import gap_warning, variable_gaps
from providers.base import Channel

FILTER_FIELDS = ("phone_status", "sms_subscription", "whatsapp_consent", "external_id", "email")
FILTER_EXAMPLE = '{"city": "İzmir", "sms_subscription": ["subscribed", "none"]}'
MAX_FILTER_VALUES = 1000


def _choices(name: str) -> set[str] | None:
    field = Contact._meta.get_field(name)
    return {value for value, _label in field.choices} if field.choices else None


def _value_problem(key: str, value) -> str | None:
    if key in FILTER_FIELDS:
        if not isinstance(value, str):
            return f"'{key}' takes text, not {json.dumps(value, ensure_ascii=False)[:40]}"
        choices = _choices(key)
        if choices is not None and value not in choices:
            return f"'{key}' is one of {', '.join(sorted(choices))}; '{value[:40]}' is not"
        return None
    if isinstance(value, bool) or isinstance(value, int | float | str):
        return None
    return f"the attribute '{key[:40]}' takes text, a number or true/false, not {type(value).__name__}"


def audience_filter_problems(spec) -> str | None:
    """The filter a campaign accepts, in words when it is not one: an object whose keys are contact
    fields or profile attribute names, each with a value (equals) or a list of values (any of).
    No other operator: a key is never an ORM lookup (`name__regex`, `city__contains`)."""
    if not isinstance(spec, dict):
        return f"the filter must be an object such as {FILTER_EXAMPLE}"
    for key, value in spec.items():
        if not key or len(key) > 100 or "__" in key or key.startswith("-"):
            return (
                f"'{key[:60]}' is not a field or attribute name; a filter only says equals (a value) or "
                f"any of (a list), e.g. {FILTER_EXAMPLE}"
            )
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            return f"the list for '{key}' is empty: give at least one value"
        if len(values) > MAX_FILTER_VALUES:
            return f"the list for '{key}' has {len(values)} values; at most {MAX_FILTER_VALUES}"
        for item in values:
            if problem := _value_problem(key, item):
                return problem
    return None


def audience_filter_q(spec: dict) -> Q:
    """{"city": "İzmir", "sms_subscription": ["subscribed", "none"]}: contact fields by name,
    anything else a profile attribute; a list means any of its values. Only a filter that
    audience_filter_problems accepts is turned into a query."""
    if problem := audience_filter_problems(spec):
        raise ValueError(problem)
    q = Q()
    for key, value in spec.items():
        # an explicit lookup after the key: {"regex": …} is the attribute "regex", never a lookup
        lookup = key if key in FILTER_FIELDS else f"attributes__{key}"
        q &= Q(**{f"{lookup}__in" if isinstance(value, list) else f"{lookup}__exact": value})
    return q


def campaign_audience(campaign: Campaign) -> QuerySet[Contact]:
    """Every contact the campaign is aimed at, before the sending rule."""
    if campaign.audience == Audience.LIST:
        return Contact.objects.filter(memberships__contact_list_id=campaign.contact_list_id)
    if campaign.audience == Audience.SEGMENT:
        from messaging.segments import definition_problems, definition_q

        definition = campaign.segment.definition if campaign.segment_id else None
        if definition is None or definition_problems(definition):  # a list deleted since: nobody
            return Contact.objects.none()
        return Contact.objects.filter(definition_q(definition))
    if campaign.audience == Audience.FILTER:
        if audience_filter_problems(campaign.audience_filter):  # saved before the check: nobody
            return Contact.objects.none()
        return Contact.objects.filter(audience_filter_q(campaign.audience_filter))
    if campaign.audience == Audience.ALERT:
        return Contact.objects.filter(phone=campaign.alert_phone)
    return Contact.objects.all()


@dataclass
class Preview:
    audience: int
    sendable: int
    exclusions: list[tuple[str, str, int]]  # (reason code, label, count)
    sample_contact: Contact | None
    sample_text: str
    missing_variables: list[str]
    cost: MessageCost  # of one message: SMS segments, a WhatsApp message of its category
    alert_without_contact: bool = False
    variable_gaps: list = field(default_factory=list)  # messaging.variables.Gap
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # shown above the figures

    @property
    def estimated_units(self) -> int:
        return self.sendable * self.cost.units

    @property
    def estimated_cost(self) -> Decimal | None:
        if self.cost.unit_price is None:
            return None
        return (self.cost.unit_price * self.estimated_units).quantize(Decimal("0.01"))


def campaign_preview(campaign: Campaign) -> Preview:
    """What sending now would do: recipients, exclusions by reason (the sending rule's own
    counts), the text for a sample contact, segments and cost."""
    connector = campaign.account.connector_instance()
    counts = exclusion_counts(campaign_audience(campaign), kind=campaign.kind, channel=campaign.channel)
    sendable = counts.pop(SENDABLE, 0)
    labels = dict(Exclusion.choices)
    exclusions = [(code, str(labels.get(code, code)), n) for code, n in sorted(counts.items(), key=lambda x: -x[1])]
    audience = sendable + sum(counts.values())
    sendable_contacts = audience_with_exclusions(
        campaign_audience(campaign), kind=campaign.kind, channel=campaign.channel
    ).filter(exclusion=SENDABLE)
    sample = sendable_contacts.order_by("pk").first()
    values = (
        contact_values(
            **{f: getattr(sample, f) for f in ("external_id", "email", "phone", "whatsapp_number", "attributes")}
        )
        if sample
        else {}
    )
    text, missing = adapter(campaign.channel).preview_text(campaign, values)
    preview = Preview(
        audience=audience,
        sendable=sendable,
        exclusions=exclusions,
        sample_contact=sample,
        sample_text=text,
        missing_variables=missing,
        cost=adapter(campaign.channel).message_cost(connector=connector, campaign=campaign, text=text),
    )
    if campaign.audience == Audience.ALERT and audience == 0:
        preview.alert_without_contact = True
        preview.audience = 1
        preview.sendable = 1 if campaign.kind == "transactional" else 0
        if not preview.sendable:
            preview.exclusions = [("not_subscribed", str(labels[Exclusion.NOT_SUBSCRIBED]), 1)]
        preview.notes.append(_("The alert number belongs to no contact: transactional only, no variables."))
    if missing:
        preview.notes.append(_("No value and no default for: %(names)s") % {"names": ", ".join(missing)})
    if sendable and campaign.audience != Audience.ALERT:
        gaps = variable_gaps(sendable_contacts, adapter(campaign.channel).required_sources(campaign))
        preview.variable_gaps = gaps
        preview.warnings.extend(gap_warning(gap, sendable) for gap in gaps)
    if campaign.audience == Audience.FILTER and (problem := audience_filter_problems(campaign.audience_filter)):
        preview.notes.append(_("The filter cannot be used, so nobody is selected: %(problem)s") % {"problem": problem})
    if campaign.audience == Audience.SEGMENT and campaign.segment_id:
        from messaging.segments import definition_problems

        if problems := definition_problems(campaign.segment.definition):
            preview.notes.append(
                _("The segment cannot be used, so nobody is selected: %(problem)s") % {"problem": "; ".join(problems)}
            )
    if needs_confirmation(campaign):
        preview.warnings.append(transactional_note(campaign))
    if campaign.status_reason:
        preview.warnings.append(_("Sending stopped by itself: %(reason)s") % {"reason": campaign.status_reason})
    return preview


def transactional_note(campaign: Campaign) -> str:
    note = _("Transactional: subscription and İYS are not checked.")
    if campaign.transactional_chosen_at:
        note += " " + _("Chosen by %(who)s on %(when)s.") % {
            "who": campaign.transactional_chosen_by_name,
            "when": date_format(localtime(campaign.transactional_chosen_at), "Y-m-d H:i"),
        }
    else:
        note += " " + _("Nobody allowed to choose it has confirmed it yet: an admin saves the campaign again.")
    return note


@dataclass
class Statistics:
    total: int
    by_status: dict[str, int]
    segments: int
    cost: Decimal | None
    read: int = 0  # WhatsApp: delivered and opened (read_at)

    def count(self, *statuses: str) -> int:
        return sum(self.by_status.get(s, 0) for s in statuses)

    @property
    def handed_over(self) -> int:
        return self.count(*SENT_OR_LATER)

    @property
    def delivered(self) -> int:
        return self.count(MessageStatus.DELIVERED)

    @property
    def no_report(self) -> int:
        """Accepted by the provider but no final report (some operators never send one)."""
        return self.count(MessageStatus.QUEUED, MessageStatus.SENT)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered among messages with a final carrier verdict; None when there is none yet."""
        decided = self.count(MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.EXPIRED)
        return None if not decided else self.delivered / decided

    @property
    def others(self) -> list[tuple[str, str, int]]:
        """The statuses besides delivered and no report, in words: (status, label, count)."""
        labels = dict(MessageStatus.choices)
        shown = (MessageStatus.DELIVERED, MessageStatus.SENT, MessageStatus.QUEUED)
        return [(s, str(labels.get(s, s)), n) for s, n in self.by_status.items() if s not in shown]

    @property
    def read_rate(self) -> float | None:
        """Read among delivered (WhatsApp sends read receipts; SMS has none)."""
        return None if not self.delivered else self.read / self.delivered


SENT_OR_LATER = (
    MessageStatus.QUEUED,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNDELIVERED,
    MessageStatus.EXPIRED,
)


def message_statistics(messages: QuerySet[Message]) -> Statistics:
    rows = messages.order_by().values_list("status").annotate(n=Count("pk"), seg=Sum("segments"), cost=Sum("price"))
    by_status, segments, cost = {}, 0, None
    for status, n, seg, price in rows:
        by_status[status] = n
        if status in SENT_OR_LATER:
            segments += seg or 0
        if price is not None:
            cost = (cost or Decimal(0)) + price
    read = messages.filter(read_at__isnull=False).order_by().count() if by_status.get(MessageStatus.DELIVERED) else 0
    return Statistics(total=sum(by_status.values()), by_status=by_status, segments=segments, cost=cost, read=read)


def campaign_statistics(campaign: Campaign) -> Statistics:
    return message_statistics(Message.objects.filter(campaign=campaign))


RECEIVED = (MessageStatus.DELIVERED,)
RECEIVED_OR_UNREPORTED = (MessageStatus.DELIVERED, MessageStatus.SENT, MessageStatus.QUEUED)


def sms_received(
    *,
    campaign: Campaign | int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    on_date: date | None = None,
    min_times: int = 1,
    max_times: int | None = None,
    count_unreported: bool = False,
    queryset: QuerySet[Contact] | None = None,
) -> QuerySet[Contact]:
    """The "SMS received" condition (product.md SMS channel): contacts who received this SMS
    (`campaign`) or any, of a `kind` (newsletter / transactional), within [since, until) or on a
    date (Europe/Istanbul), at least `min_times` (and at most `max_times`) times. Received means a
    delivery report said delivered; `count_unreported` also counts messages the operator never
    reported on. min_times=0 with max_times=0 gives the contacts who did NOT receive it."""
    statuses = RECEIVED_OR_UNREPORTED if count_unreported else RECEIVED
    condition = Q(messages__channel=Channel.SMS, messages__status__in=statuses)
    if campaign is not None:
        condition &= Q(messages__campaign=campaign)
    if kind:
        condition &= Q(messages__kind=kind)
    if since:
        condition &= Q(messages__created_at__gte=since)
    if until:
        condition &= Q(messages__created_at__lt=until)
    if on_date:
        condition &= Q(messages__created_at__date=on_date)
    queryset = Contact.objects.all() if queryset is None else queryset
    annotated = queryset.annotate(sms_received=Count("messages", filter=condition))
    annotated = annotated.filter(sms_received__gte=min_times)
    if max_times is not None:
        annotated = annotated.filter(sms_received__lte=max_times)
    return annotated


class NoAccount(LookupError):
    """No single active account of the channel matches; the message says what to do."""


INSTALL_HINT = {
    Channel.SMS: "python manage.py install_connector console",
    Channel.WHATSAPP: "python manage.py install_connector whatsapp --name NAME --set …",
}


def channel_account(channel: str, name: str | None = None):
    """The active account of `channel` called `name`, or the only active one when no name is given."""
    from providers.snapshots import active_accounts

    # the process's copy of the active accounts (providers.snapshots: read again after any change)
    found = [a for a in active_accounts(channel) if not name or a.name == name][:2]
    label = Channel(channel).label
    if len(found) == 1:
        return found[0]
    if name:
        raise NoAccount(f"no active {label} account named {name!r}")
    if found:
        raise NoAccount(f"several {label} accounts are active: choose one with --account")
    hint = INSTALL_HINT.get(channel, "python manage.py install_connector")
    raise NoAccount(f"no {label} account is installed ({hint})")


def sms_account(name: str | None = None):
    return channel_account(Channel.SMS, name)
