"""The ledger's callers for one contact or number: a provider's refusal, a STOP reply, the contact
page's SMS subscription and WhatsApp consent, a WhatsApp opt-out. Each is a ConsentInput through
consent_apply, the only write path (consent/services.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext

from consent.models import ChangeOrigin, ConsentSource, ConsentStatus, ConsentType, RecipientType
from consent.rules import WHATSAPP_SOURCES
from consent.services import ConsentInput, consent_apply
from contacts.models import Contact
from contacts.parsers import Rejection


def _mesaj_ret_now(recipients, *, source: str, origin_ref: str) -> list[ConsentInput]:
    now = timezone.now()
    return [
        ConsentInput(
            recipient=r,
            type=ConsentType.MESAJ,
            status=ConsentStatus.RET,
            consent_date=now,
            source=source,
            origin_ref=origin_ref,
        )
        for r in recipients
    ]


def consent_refused_by_provider(*, recipients: list[str], origin_ref: str) -> list[str | Rejection]:
    """A provider refused a commercial SMS because İYS holds no consent for the number (Netgsm
    status 16, Infobip's İYS rejection). Decision (issue 5 note): İYS's view wins until İYS says
    otherwise, so the ledger records a RET by the brand's decision (HS_KARAR), dated now; it is not
    sent to İYS (İYS already refuses), and the next İYS pull with a later ONAY replaces it."""
    turkish = [r for r in recipients if r.startswith("+90")]
    changes = _mesaj_ret_now(turkish, source=ConsentSource.HS_KARAR, origin_ref=origin_ref)
    return consent_apply(changes=changes, origin=ChangeOrigin.PROVIDER) if changes else []


def consent_opt_out_by_reply(*, recipients: list[str], origin_ref: str) -> list[str | Rejection]:
    """A recipient answered STOP to an SMS: a RET collected by SMS (HS_MESAJ), dated now, written
    to the ledger (so sending stops at once) and, in Sync mode, sent to İYS. A sender that is not
    a valid phone number in E.164 is rejected, never written."""
    from contacts.phones import to_e164

    valid = [to_e164(r, default_region=None) == r for r in recipients]
    phones = [r for r, ok in zip(recipients, valid, strict=True) if ok]
    changes = _mesaj_ret_now(phones, source=ConsentSource.HS_MESAJ, origin_ref=origin_ref)
    applied = iter(consent_apply(changes=changes, origin=ChangeOrigin.INBOUND) if changes else [])
    return [
        next(applied) if ok else Rejection(f"{r!r} is not a valid phone number")
        for r, ok in zip(recipients, valid, strict=True)
    ]


def subscription_change(
    *, contact: Contact, subscribed: bool, source: str, consent_date: datetime, acting_user=None, recipient_type=None
) -> str | Rejection:
    """A marketer switches a contact's SMS subscription: that is a MESAJ consent change, so it
    needs its evidence (source and date), goes into the ledger (which sets the subscription) and,
    for +90 numbers in Sync mode, to İYS (product.md: one truth, two views)."""
    if not contact.phone:
        return Rejection(gettext("the contact has no mobile phone: there is nothing to subscribe"))
    if source.startswith("IYS_"):
        return Rejection(
            gettext("IYS_* sources are İYS's own (a citizen acting at İYS); choose where the brand collected it")
        )
    [result] = consent_apply(
        changes=[
            ConsentInput(
                recipient=contact.phone,
                type=ConsentType.MESAJ,
                status=ConsentStatus.ONAY if subscribed else ConsentStatus.RET,
                consent_date=consent_date,
                source=source,
                recipient_type=recipient_type or RecipientType.BIREYSEL,
                contact_id=contact.pk,
                origin_ref=f"contact {contact.pk} page",
            )
        ],
        origin=ChangeOrigin.ADMIN,
        acting_user=acting_user,
    )
    return result


WHATSAPP_OPT_OUT_ORIGINS = (ChangeOrigin.INBOUND, ChangeOrigin.PROVIDER)


def consent_whatsapp_opt_out(
    *, numbers: Sequence[str], origin: str, origin_ref: str, at: datetime | None = None
) -> list[str | Rejection]:
    """A WhatsApp user stopped marketing messages (product.md WhatsApp consent): an inbound STOP
    (DUR, IPTAL, İPTAL) or a tap on the stop-promotions button (origin INBOUND), or Meta's error
    131050 (origin PROVIDER). Each number gets a WHATSAPP RET collected in WhatsApp, dated `at`
    (the message's time; now when not given, never later than now), linked to the contact holding
    the number, whose WhatsApp consent becomes opt-out. Never sent to İYS; SMS consent stays as it
    is (another channel). A number not in E.164 is rejected, never written; a later opt-in already
    in the ledger is kept (only a later consent date replaces one). Returns one result per number."""
    from contacts.phones import to_e164

    if origin not in WHATSAPP_OPT_OUT_ORIGINS:
        raise ValueError(f"a WhatsApp opt-out comes from an inbound message or the provider, not {origin!r}")
    now = timezone.now()
    when = min(at, now) if at is not None else now
    valid = [to_e164(n, default_region=None) == n for n in numbers]
    phones = [n for n, ok in zip(numbers, valid, strict=True) if ok]
    holders = dict(Contact.objects.filter(whatsapp_number__any_of=phones).values_list("whatsapp_number", "pk"))
    changes = [
        ConsentInput(
            recipient=number,
            type=ConsentType.WHATSAPP,
            status=ConsentStatus.RET,
            consent_date=when,
            source=ConsentSource.WHATSAPP,
            contact_id=holders.get(number),
            origin_ref=origin_ref[:255],
        )
        for number in phones
    ]
    applied = iter(consent_apply(changes=changes, origin=origin) if changes else [])
    return [
        next(applied) if ok else Rejection(f"{n!r} is not a valid WhatsApp number")
        for n, ok in zip(numbers, valid, strict=True)
    ]


def whatsapp_consent_change(
    *, contact: Contact, opt_in: bool, source: str, consent_date: datetime, evidence: str, acting_user=None
) -> str | Rejection:
    """Someone changes a contact's WhatsApp consent on its page: a WHATSAPP consent change with its
    evidence (where it was collected, when, and a text saying what proves it), written to the
    ledger, which sets the contact's fields (product.md WhatsApp consent: the contact page)."""
    if not contact.whatsapp_number:
        return Rejection(gettext("the contact has no WhatsApp number: there is no WhatsApp consent to change"))
    evidence = " ".join(evidence.split())
    if not evidence:
        return Rejection(gettext("say what the evidence is (e.g. the signed form, the e-mail, the call)"))
    if source not in WHATSAPP_SOURCES or source == ConsentSource.NOT_STATED:
        return Rejection(
            gettext("choose where the consent was collected (%(source)s does not say it)") % {"source": source}
        )
    [result] = consent_apply(
        changes=[
            ConsentInput(
                recipient=contact.whatsapp_number,
                type=ConsentType.WHATSAPP,
                status=ConsentStatus.ONAY if opt_in else ConsentStatus.RET,
                consent_date=consent_date,
                source=source,
                contact_id=contact.pk,
                origin_ref=f"contact {contact.pk} page: {evidence}"[:255],
            )
        ],
        origin=ChangeOrigin.ADMIN,
        acting_user=acting_user,
    )
    return result
