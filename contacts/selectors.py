from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from config.dashboard import Figure
from contacts.models import Contact, PhoneStatus, SmsSubscription
from contacts.phones import to_e164


def dashboard_figures(*, request) -> list[Figure]:
    if not request.user.has_perm("contacts.view_contact"):
        return []
    by_status = dict(Contact.objects.values_list("phone_status").annotate(n=Count("pk")).order_by())
    by_sub = dict(Contact.objects.values_list("sms_subscription").annotate(n=Count("pk")).order_by())
    total = sum(by_status.values())
    url = reverse("admin:contacts_contact_changelist")
    return [
        Figure(
            key="contacts",
            label=_("Contacts"),
            value=total,
            url=url,
            detail=", ".join(f"{label}: {by_status.get(value, 0)}" for value, label in PhoneStatus.choices),
        ),
        Figure(
            key="sms_subscribed",
            label=_("SMS subscribed"),
            value=by_sub.get(SmsSubscription.SUBSCRIBED, 0),
            url=f"{url}?sms_subscription__exact={SmsSubscription.SUBSCRIBED}",
            detail=", ".join(
                f"{label}: {by_sub.get(value, 0)}"
                for value, label in SmsSubscription.choices
                if value != SmsSubscription.SUBSCRIBED
            ),
        ),
    ]


def contact_display_name(contact: Contact) -> str:
    """The contact's name from its profile attributes (settings.CONTACT_NAME_ATTRIBUTES: the first
    alternative it has, e.g. `name`, else `first_name last_name`), or ""."""
    attributes = contact.attributes if isinstance(contact.attributes, dict) else {}
    for keys in settings.CONTACT_NAME_ATTRIBUTES:
        parts = [str(attributes[key]).strip() for key in keys if attributes.get(key) not in (None, "")]
        if any(parts):
            return " ".join(part for part in parts if part)
    return ""


def _name_starts(words: list[str]) -> Q:
    """Every word starts one of the searchable attributes (any case). A Turkish name typed with a
    lower-case dotted i ("ismail") also finds "İsmail", which databases upper-case to "İ"."""
    condition = Q()
    for word in words:
        spellings = {word}
        if word[:1] == "i":
            spellings.add("İ" + word[1:])
        if word[:1] == "ı":
            spellings.add("I" + word[1:])
        any_attribute = Q()
        for name in settings.CONTACT_SEARCH_ATTRIBUTES:
            for spelling in spellings:
                any_attribute |= Q(**{f"attributes__{name}__istartswith": spelling})
        condition &= any_attribute
    return condition


def contact_search(queryset: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """Contacts matching what a marketer typed in the search box: a phone in any common spelling
    (05321234567, 0532 123 45 67, +90 532…, 90532…, 5321234567: normalised to E.164 and matched
    exactly), an email (exact, any case) or external id (exact) — each an index look-up — or the
    start of a name in the searchable profile attributes (settings.CONTACT_SEARCH_ATTRIBUTES)."""
    term = " ".join(term.split())
    if not term:
        return queryset
    condition = Q(external_id=term)
    phone = to_e164(term)
    if phone:
        condition |= Q(phone=phone) | Q(whatsapp_number=phone)
    if "@" in term:
        condition |= Q(email=term.lower())
    elif not phone and settings.CONTACT_SEARCH_ATTRIBUTES and any(ch.isalpha() for ch in term):
        # a name's start: a scan of the attributes, stopped by the list's LIMIT (no index serves it)
        words = term.split(" ")
        condition |= _name_starts([term])
        if 1 < len(words) <= 4:  # "ayşe yıl": first name and last name in attributes of their own
            condition |= _name_starts(words)
    return queryset.filter(condition)
