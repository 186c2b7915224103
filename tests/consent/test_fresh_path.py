"""An İYS upload writes the lines of recipients it has never seen in one set-based statement
(consent_apply_fresh) and passes the others to consent_apply. Whatever the batch and whatever the
database already holds, the outcome must be the one consent_apply alone gives: the same results
per line, contacts, consents, history and İYS submissions (a differential test on PostgreSQL)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consent.imports as iys_imports
from consent.imports import EmailIysUpload, SmsIysUpload
from consent.models import Consent, ConsentChange, IysSubmission
from consent.parsers import IYS_START, IysLine
from contacts.models import Contact, FileTransfer, SmsSubscription
from contacts.parsers import Rejection
from contacts.transfers import DEFERRED
from providers.base import Channel
from providers.models import ProviderAccount
from tests.services import require_postgres

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")
PHONES = ["+905330000001", "+905330000002", "+905330000003", "+905330000004", "+447911123456"]
EMAILS = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]
EXIDS = ["u1", "u2", "u3", "u4"]
DATES = [IYS_START, datetime(2020, 1, 1, 9, 0, tzinfo=IST), datetime(2024, 6, 1, 12, 30, 15, tzinfo=IST)]
# HS_2015 needs the date 01.05.2015 and HS_KARAR a RET: some draws break İYS's rules
SOURCES = ["HS_WEB", "HS_MESAJ", "HS_2015", "HS_KARAR"]
KINDS = {"sms": (SmsIysUpload, "phone", "MESAJ", PHONES), "email": (EmailIysUpload, "email", "EPOSTA", EMAILS)}


@st.composite
def scenarios(draw):
    kind = draw(st.sampled_from(sorted(KINDS)))
    addresses = KINDS[kind][3]
    address = st.sampled_from(addresses)
    exid = st.one_of(st.none(), st.sampled_from(EXIDS))
    contacts = draw(st.lists(st.tuples(exid, st.one_of(st.none(), address)), max_size=4))
    seen, unique = set(), []
    for external_id, addr in contacts:  # an external id belongs to one contact
        if external_id is None or external_id not in seen:
            seen.add(external_id)
            unique.append((external_id, addr))
    consents = draw(
        st.dictionaries(
            address,
            st.tuples(st.sampled_from(["ONAY", "RET"]), st.sampled_from(DATES), st.booleans()),
            max_size=3,
        )
    )
    line = st.builds(
        IysLine,
        recipient=address,
        source=st.sampled_from(SOURCES),
        status=st.sampled_from(["ONAY", "RET"]),
        consent_date=st.sampled_from(DATES),
        external_id=exid,
    )
    records = draw(st.lists(line, min_size=1, max_size=8))
    return kind, unique, consents, records, draw(st.booleans())


def _given_state(kind: str, contacts, consents, sync: bool, transfer_name: str) -> FileTransfer:
    _, field, consent_type, _ = KINDS[kind]
    made = [Contact.objects.create(external_id=e, **{field: a}) for e, a in contacts]
    for recipient, (status, date, linked) in consents.items():
        owner = next((c for c in made if getattr(c, field) == recipient), None) if linked else None
        Consent.objects.create(
            recipient=recipient, type=consent_type, status=status, consent_date=date, source="HS_WEB", contact=owner
        )
    if sync:
        ProviderAccount.objects.create(name="İYS", connector="iys", channel=Channel.IYS, settings={"mode": "sync"})
    return FileTransfer.objects.create(name=transfer_name, kind=f"{kind}-iys", original_name="upload.txt")


def _state() -> tuple:
    """The database as a marketer sees it: contacts by their values, not by their ids."""
    contacts = {
        c["pk"]: (c["external_id"], c["phone"], c["email"], c["sms_subscription"], c["phone_status"])
        for c in Contact.objects.values("pk", "external_id", "phone", "email", "sms_subscription", "phone_status")
    }
    consents = sorted(
        (k.recipient, k.type, k.recipient_type, k.status, k.consent_date, k.source, contacts.get(k.contact_id))
        for k in Consent.objects.all()
    )
    history: dict[str, list] = {}
    for h in ConsentChange.objects.select_related("consent").order_by("pk"):
        history.setdefault(h.recipient, []).append(
            (
                h.type,
                h.recipient_type,
                h.status,
                h.previous_status,
                h.consent_date,
                h.source,
                h.origin,
                h.origin_ref,
                h.file_transfer_id is not None,
                contacts.get(h.contact_id),
                (h.consent.recipient, h.consent.type, h.consent.status),
            )
        )
    submissions = sorted(
        (s.change.recipient, s.change.status, s.state, s.deadline, s.skip_reason)
        for s in IysSubmission.objects.select_related("change")
    )
    return sorted(contacts.values(), key=repr), consents, history, submissions


def _run(scenario, *, fresh: bool, monkeypatch) -> tuple:
    kind, contacts, consents, records, sync = scenario
    upload_class = KINDS[kind][0]
    with transaction.atomic():
        transfer = _given_state(kind, contacts, consents, sync, "differential")
        upload = upload_class(transfer)
        with monkeypatch.context() as patch:
            if fresh:  # as the import pipeline runs it: prepared in the parser, records deferred
                prepared = upload.prepare(records)
                sent = list(records)
                for position in prepared.deferred:
                    sent[position] = DEFERRED
                results = upload.apply(sent, prepared)
            else:
                patch.setattr(iys_imports, "consent_apply_fresh", lambda **kwargs: set())
                results = upload.apply(list(records))
        outcome = ([r.reason if isinstance(r, Rejection) else r for r in results], _state())
        transaction.set_rollback(True)
    return outcome


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_the_fresh_path_gives_what_consent_apply_alone_gives(scenario, monkeypatch):
    require_postgres()
    assert _run(scenario, fresh=True, monkeypatch=monkeypatch) == _run(scenario, fresh=False, monkeypatch=monkeypatch)


def test_new_recipients_take_the_set_based_statement_and_known_ones_the_ledger():
    require_postgres()
    known = Contact.objects.create(phone=PHONES[0], external_id="u1")
    transfer = _given_state("sms", [], {}, False, "mixed")
    records = [
        IysLine(PHONES[0], "HS_WEB", "ONAY", DATES[1], "u1"),  # a known contact: the ledger's path
        IysLine(PHONES[1], "HS_WEB", "RET", DATES[1], "u2"),  # never seen: the statement
        IysLine(PHONES[2], "HS_WEB", "ONAY", DATES[2], None),  # never seen: the statement
        IysLine(PHONES[3], "HS_WEB", "ONAY", DATES[1], None),  # twice in the batch: the ledger's path
        IysLine(PHONES[3], "HS_WEB", "RET", DATES[2], None),
    ]
    upload = SmsIysUpload(transfer)
    prepared = upload.prepare(records)
    assert prepared.deferred == [0, 1, 2]  # once in the batch; the statement checks the database
    seen = _Statements()
    with connection.execute_wrapper(seen):
        results = upload.apply([DEFERRED, DEFERRED, DEFERRED, *records[3:]], prepared)
    assert results == ["created", "created", "created", "created", "updated"]
    assert seen.fresh_statements == 1
    new = Contact.objects.get(phone=PHONES[1])
    assert (new.external_id, new.sms_subscription) == ("u2", SmsSubscription.NOT_SUBSCRIBED)
    assert Contact.objects.get(phone=PHONES[2]).sms_subscription == SmsSubscription.SUBSCRIBED
    assert Consent.objects.get(recipient=PHONES[0]).contact_id == known.pk
    assert Consent.objects.get(recipient=PHONES[3]).status == "RET"
    assert list(ConsentChange.objects.filter(recipient=PHONES[3]).order_by("pk").values_list("status", flat=True)) == [
        "ONAY",
        "RET",
    ]


def test_a_recipient_that_arrives_in_the_meantime_is_left_to_the_ledger():
    """The candidates are chosen in the parser process; the statement checks the database again."""
    require_postgres()
    transfer = _given_state("sms", [], {}, False, "late")
    upload = SmsIysUpload(transfer)
    records = [
        IysLine(PHONES[0], "HS_WEB", "ONAY", DATES[1], "u1"),
        IysLine(PHONES[1], "HS_WEB", "ONAY", DATES[1], None),
    ]
    prepared = upload.prepare(records)
    Contact.objects.create(phone=PHONES[0], external_id="u1")  # imported by someone else meanwhile
    Consent.objects.create(recipient=PHONES[1], type="MESAJ", status="ONAY", consent_date=DATES[2], source="HS_WEB")
    results = upload.apply([DEFERRED, DEFERRED], prepared)
    assert results == ["created", "unchanged"]
    assert Contact.objects.filter(phone=PHONES[0]).count() == 1  # matched, not created twice
    assert Consent.objects.get(recipient=PHONES[0]).contact.external_id == "u1"


class _Statements:
    def __init__(self):
        self.fresh_statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.fresh_statements += sql.startswith("WITH batch AS MATERIALIZED")
        return execute(sql, params, many, context)
