from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from config.dashboard import Figure
from contacts.models import Contact, PhoneStatus, SmsSubscription


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
