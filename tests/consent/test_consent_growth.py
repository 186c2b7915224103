"""Consent growth on the dashboard: ONAY and RET the ledger recorded on each of the last 30 days
(Europe/Istanbul), from real history rows written through consent_apply."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from consent.charts import consent_changes_per_day
from consent.services import ConsentInput, consent_apply
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
ISTANBUL = ZoneInfo("Europe/Istanbul")
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=ISTANBUL)


def recorded(when: datetime, contact, status: str, consent_date: datetime):
    """A MESAJ change recorded by the ledger at `when` (its clock stopped there)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        consent_apply(
            changes=[
                ConsentInput(
                    recipient=contact.phone,
                    type="MESAJ",
                    status=status,
                    source="HS_WEB",
                    consent_date=consent_date,
                    contact_id=contact.pk,
                )
            ],
            origin="upload",
        )


def test_consent_growth_counts_onay_and_ret_on_the_day_they_were_recorded():
    first, second, third = ContactFactory(), ContactFactory(), ContactFactory()
    may = datetime(2025, 5, 1, tzinfo=ISTANBUL)
    recorded(datetime(2025, 11, 19, 22, 30, tzinfo=ZoneInfo("UTC")), first, "ONAY", may)  # the 20th in İstanbul
    recorded(datetime(2025, 11, 20, 9, 0, tzinfo=ISTANBUL), second, "ONAY", may)
    recorded(datetime(2025, 11, 15, 10, 0, tzinfo=ISTANBUL), third, "RET", may)
    recorded(datetime(2025, 11, 20, 10, 0, tzinfo=ISTANBUL), second, "ONAY", may)  # the same: nothing recorded
    recorded(datetime(2025, 10, 1, 10, 0, tzinfo=ISTANBUL), ContactFactory(), "ONAY", may)  # before the 30 days
    with override("en"):
        data = consent_changes_per_day(now=NOW)
    values = {s.key: s.values for s in data.series}
    day = {key: i for i, key in enumerate(data.keys)}
    assert values["onay"][day["2025-11-20"]] == 2 and sum(values["onay"]) == 2
    assert values["ret"][day["2025-11-15"]] == 1 and sum(values["ret"]) == 1
    assert [s.label for s in data.series] == ["ONAY (consent given)", "RET (consent refused)"]
    assert len(data.labels) == 30 and data.total == 3


def test_consent_growth_has_an_empty_state():
    with override("en"):
        assert consent_changes_per_day(now=NOW).empty == "No consent changes in the last 30 days"


def test_the_consent_growth_endpoint_is_for_those_who_may_read_the_history(client, marketer, django_user_model):
    contact = ContactFactory()
    recorded(timezone.now(), contact, "ONAY", datetime(2025, 5, 1, tzinfo=ISTANBUL))
    url = reverse("admin:consent_consentchange_per_day")
    client.force_login(marketer)
    data = client.get(url).json()
    assert {s["key"]: s["values"][-1] for s in data["series"]} == {"onay": 1, "ret": 0}
    clerk = django_user_model.objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403
