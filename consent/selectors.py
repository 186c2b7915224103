"""The sending rule (product.md SMS channel 'Who may receive'; WhatsApp channel): the one place
that decides who may receive which kind of message on which channel. It is a single SQL
expression giving each contact's first exclusion reason ('' when sendable); the campaign preview
(exclusion counts), the dispatcher (sendable queryset, re-checked at send time) and single sends
(is_sendable) all use it, so they can never disagree."""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, TextChoices, Value, When
from django.utils.translation import gettext_lazy as _

from config.db import tuned_for_counting
from consent.models import Consent, ConsentStatus, ConsentType, MessageKind, RecipientType
from contacts.models import Contact, PhoneStatus, SmsSubscription, WhatsAppConsent
from providers.base import Channel
from providers.snapshots import active_accounts

SENDABLE = ""


class Exclusion(TextChoices):
    NO_PHONE = "no_phone", _("No mobile phone")
    BOUNCED = "bounced", _("Phone bounced")
    PAUSED = "paused", _("Contact paused")
    NOT_SUBSCRIBED = "not_subscribed", _("Not subscribed to SMS (newsletter)")
    NO_IYS_ONAY = "no_iys_onay", _("No İYS MESAJ consent (ONAY)")
    AWAITING_IYS = "awaiting_iys", _("ONAY not yet confirmed by İYS (Integrator mode)")
    NO_WHATSAPP = "no_whatsapp", _("No WhatsApp number")
    NO_WHATSAPP_OPT_IN = "no_whatsapp_opt_in", _("No WhatsApp opt-in")


class IysGate(TextChoices):
    OFF = "off", _("İYS connector not installed")
    SYNC = "sync", _("Sync mode")
    INTEGRATOR = "integrator", _("Integrator mode")


def iys_gate() -> str:
    """Whether commercial SMS to +90 numbers needs İYS ONAY, and whether it must be confirmed."""
    # the process's copy of the active accounts, by id (providers.snapshots: read again after any change)
    account = next(iter(active_accounts(Channel.IYS)), None)
    if account is None:
        return IysGate.OFF
    return IysGate.INTEGRATOR if account.settings.get("mode") == IysGate.INTEGRATOR else IysGate.SYNC


def exclusion_expression(*, kind: str, channel: str, gate: str | None = None) -> Case:
    if kind not in MessageKind.values or channel not in (Channel.SMS, Channel.WHATSAPP):
        raise ValueError(f"no sending rule for kind={kind!r} on channel={channel!r}")
    whens: list[When] = []
    if channel == Channel.SMS:
        whens += [
            When(Q(phone__isnull=True) | Q(phone=""), then=Value(Exclusion.NO_PHONE)),
            When(phone_status=PhoneStatus.BOUNCED, then=Value(Exclusion.BOUNCED)),
            When(~Q(phone_status=PhoneStatus.ACTIVE), then=Value(Exclusion.PAUSED)),
        ]
        if kind == MessageKind.NEWSLETTER:
            whens.append(When(~Q(sms_subscription=SmsSubscription.SUBSCRIBED), then=Value(Exclusion.NOT_SUBSCRIBED)))
            gate = iys_gate() if gate is None else gate
            if gate != IysGate.OFF:
                onay = Consent.objects.filter(
                    recipient=OuterRef("phone"),
                    type=ConsentType.MESAJ,
                    recipient_type=RecipientType.BIREYSEL,
                    status=ConsentStatus.ONAY,
                )
                turkish = Q(phone__startswith="+90")  # İYS covers Turkish numbers only
                whens.append(When(turkish & ~Exists(onay), then=Value(Exclusion.NO_IYS_ONAY)))
                if gate == IysGate.INTEGRATOR:
                    confirmed = onay.filter(iys_confirmed_at__isnull=False)
                    whens.append(When(turkish & ~Exists(confirmed), then=Value(Exclusion.AWAITING_IYS)))
    else:
        whens += [
            When(Q(whatsapp_number__isnull=True) | Q(whatsapp_number=""), then=Value(Exclusion.NO_WHATSAPP)),
            When(~Q(whatsapp_consent=WhatsAppConsent.OPT_IN), then=Value(Exclusion.NO_WHATSAPP_OPT_IN)),
        ]
    return Case(*whens, default=Value(SENDABLE), output_field=CharField())


def audience_with_exclusions(
    queryset: QuerySet[Contact] | None = None, *, kind: str, channel: str, gate: str | None = None
) -> QuerySet[Contact]:
    queryset = Contact.objects.all() if queryset is None else queryset
    return queryset.annotate(exclusion=exclusion_expression(kind=kind, channel=channel, gate=gate))


def sendable(
    queryset: QuerySet[Contact] | None = None, *, kind: str, channel: str, gate: str | None = None
) -> QuerySet[Contact]:
    """The contacts that may receive a message of `kind` on `channel` now."""
    return audience_with_exclusions(queryset, kind=kind, channel=channel, gate=gate).filter(exclusion=SENDABLE)


def exclusion_counts(queryset: QuerySet[Contact] | None = None, *, kind: str, channel: str) -> dict[str, int]:
    """For the preview: how many contacts each reason excludes ('' = sendable)."""
    rows = (
        audience_with_exclusions(queryset, kind=kind, channel=channel)
        .order_by()
        .values_list("exclusion")
        .annotate(n=Count("pk"))
    )
    with tuned_for_counting():
        return dict(rows)


def is_sendable(*, contact_id: int, kind: str, channel: str) -> tuple[bool, str]:
    """For one contact (single sends, and each message at send time): (may send, reason if not).
    The rule's SQL depends only on the kind, the channel and the İYS gate (read each time), so it
    is compiled once per combination and run with the contact's id: the same statement the
    queryset form gives (tests/consent/test_sending_rule.py checks both against an oracle)."""
    sql, params, at = _one_contact_rule(kind, channel, _gate_for(kind, channel), connection.vendor)
    row = _fetch_one(sql, params, at, contact_id)
    if row is None:
        return False, "the contact no longer exists"
    return row[0] == SENDABLE, row[0]


def _gate_for(kind: str, channel: str) -> str:
    return iys_gate() if (channel, kind) == (Channel.SMS, MessageKind.NEWSLETTER) else IysGate.OFF


def _fetch_one(sql: str, params: tuple, at: int, value) -> tuple | None:
    """Runs a precompiled rule with `value` in the place its probe held."""
    params = list(params)
    params[at] = value
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


_PROBE = -7_340_021_113  # a contact id no row has: finds where the id goes among the parameters
_PROBE_TEXT = "\x01probe\x01"  # a value no phone or number has: finds where it goes, as _PROBE


def contact_with_exclusion(*, field: str, value: str, kind: str, channel: str) -> tuple[Contact | None, str | None]:
    """A single send to a number: the first contact (by id) whose `field` ("phone",
    "whatsapp_number") is `value`, and the sending rule's verdict on it (SENDABLE or the reason),
    in one statement, the same rule is_sendable runs; (None, None) when no contact has it."""
    rule = _contact_by_field_rule(field, kind, channel, _gate_for(kind, channel), connection.vendor)
    sql, params, at, columns, converters = rule
    row = _fetch_one(sql, params, at, value)
    if row is None:
        return None, None
    row = list(row)
    for position, (functions, expression) in converters:  # as the ORM does: JSON decoded, and so on
        for function in functions:
            row[position] = function(row[position], expression, connection)
    return Contact.from_db(connection.alias, columns, row[:-1]), row[-1]


@functools.cache
def _contact_by_field_rule(field: str, kind: str, channel: str, gate: str, vendor: str):
    queryset = audience_with_exclusions(
        Contact.objects.filter(**{field: _PROBE_TEXT}).order_by("pk"), kind=kind, channel=channel, gate=gate
    )
    query = queryset[:1].query
    sql, params = query.sql_with_params()
    (at,) = [i for i, p in enumerate(params) if p == _PROBE_TEXT]
    compiler = query.get_compiler(connection=connection)
    compiler.setup_query()
    selected = [expression for expression, _sql, _alias in compiler.select]
    columns = [f.attname for f in Contact._meta.concrete_fields]  # the SELECT: these, then the exclusion
    if len(selected) != len(columns) + 1:
        raise AssertionError("the rule's SELECT is not the contact's columns and the exclusion")
    return sql, tuple(params), at, columns, list(compiler.get_converters(selected).items())


@functools.cache
def _one_contact_rule(kind: str, channel: str, gate: str, vendor: str) -> tuple[str, tuple, int]:
    queryset = audience_with_exclusions(Contact.objects.filter(pk=_PROBE), kind=kind, channel=channel, gate=gate)
    sql, params = queryset.values_list("exclusion", flat=True)[:1].query.sql_with_params()
    (at,) = [i for i, p in enumerate(params) if p == _PROBE]
    return sql, tuple(params), at


def dashboard_figures(*, request):
    from django.urls import reverse
    from django.utils.translation import gettext

    from config.dashboard import Figure
    from consent.iys.status import iys_status
    from consent.models import Consent

    if not request.user.has_perm("consent.view_consent"):
        return []
    by_status = dict(
        Consent.objects.filter(type=ConsentType.MESAJ).values_list("status").annotate(n=Count("pk")).order_by()
    )
    figures = [
        Figure(
            key="consents",
            label=gettext("MESAJ consents"),
            value=by_status.get(ConsentStatus.ONAY, 0),
            detail=gettext("ONAY; RET: %(ret)d") % {"ret": by_status.get(ConsentStatus.RET, 0)},
            url=reverse("admin:consent_consent_changelist"),
        )
    ]
    if (gate := iys_gate()) != IysGate.OFF:
        status = iys_status()
        detail = [str(IysGate(gate).label)]  # what the figures mean depends on the mode in use
        if status.overdue:
            detail.append(gettext("%(n)d overdue") % {"n": status.overdue})
        if gate == IysGate.INTEGRATOR and status.awaiting_iys:
            detail.append(gettext("%(n)d ONAY awaiting İYS confirmation") % {"n": status.awaiting_iys})
        figures.append(
            Figure(
                key="iys_backlog",
                label=gettext("İYS backlog"),
                value=status.backlog,
                detail=" · ".join(detail),
                state="bad" if status.overdue else ("warn" if status.errors_by_code else "ok"),
                url=reverse("admin:consent_iyssubmission_changelist"),
            )
        )
    return figures
