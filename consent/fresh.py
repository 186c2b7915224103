"""consent_apply's set-based form (PostgreSQL): what neither the ledger nor the contacts have seen
(most lines of a first upload) is written in one statement per batch: contact, consent, history
row and, in Sync mode, the İYS submission. It writes only what consent_apply would write for a new
recipient (tests/consent/test_fresh_path.py compares the two), so the ledger's rules stay in
consent.services."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from config.db import pg_array_literal, pg_text_array
from consent.implied import IMPLIED_SUBSCRIPTION
from consent.models import (
    ChangeOrigin,
    Consent,
    ConsentChange,
    ConsentStatus,
    ConsentType,
    IysSubmission,
    RecipientType,
    SubmissionState,
)
from consent.rules import IYS_TYPES, consent_problem
from consent.services import NOT_SENT_TO_IYS, not_for_iys, sync_account_id
from consent.signals import changes_appended
from contacts.bulk import new_row, sequence_name
from contacts.models import Contact


class _Sql(str):
    """An SQL expression over the fresh lines (a column of `fresh`), not a value."""


def _insert_select(model, values: dict[str, object], params: list) -> str:
    """`INSERT INTO <model's table> (…) SELECT … FROM fresh`: each value is an _Sql expression
    or a constant, which goes into `params` prepared as the field prepares it."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    qn = connection.ops.quote_name
    exprs = []
    for name, value in values.items():
        if isinstance(value, _Sql):
            exprs.append(value)
        else:
            exprs.append("%s")
            params.append(fields[name].get_db_prep_save(value, connection))
    columns = ", ".join(qn(fields[n].column) for n in values)
    # names from the model, expressions from this module, values as parameters
    return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) SELECT {', '.join(exprs)} FROM fresh"  # noqa: S608


@dataclass(frozen=True)
class FreshCandidates:
    """The records consent_apply_fresh may write: their positions, their values as columns
    (recipient, external_id, status, consent_date in ISO 8601, source), and the same as array
    literals (positions first)."""

    positions: list[int]
    columns: tuple[list, ...]
    arrays: list[str]


def fresh_candidates(records: Sequence, consent_type: str) -> FreshCandidates | None:
    """What consent_apply_fresh considers, worked out without the database (so an import can do it
    in its parser process): the records whose recipient and external id appear once in `records`
    and that pass consent_apply's checks. None where the fresh path does not run (not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    recipients = Counter(r.recipient for r in records)
    exids = Counter(r.external_id for r in records if r.external_id)
    positions = [
        i
        for i, r in enumerate(records)
        if recipients[r.recipient] == 1
        and (not r.external_id or exids[r.external_id] == 1)
        and consent_problem(r.recipient, consent_type, r.status, r.consent_date, r.source, now) is None
    ]
    chosen = [records[i] for i in positions]
    columns = (
        [r.recipient for r in chosen],
        [r.external_id or None for r in chosen],
        [r.status for r in chosen],
        [r.consent_date.isoformat() for r in chosen],
        [r.source for r in chosen],
    )
    return FreshCandidates(positions, columns, [pg_array_literal(positions), *map(pg_text_array, columns)])


def _fresh_inserts(
    *, consent_type, address_field, origin, origin_ref, file_transfer, acting_user, account_id, now, params: list
) -> list[str]:
    """consent_apply_fresh's writes, one `INSERT … SELECT … FROM fresh` per table (constants go
    into `params`): the new contact with the subscription its consent implies, the consent, the
    history row and, in Sync mode, the İYS submission: the rows consent_apply writes for a new
    recipient."""
    subscription: object = Contact._meta.get_field("sms_subscription").get_default()
    if consent_type == ConsentType.MESAJ:  # an individual's (the fresh path writes BIREYSEL only)
        onay, ret = IMPLIED_SUBSCRIPTION[ConsentStatus.ONAY], IMPLIED_SUBSCRIPTION[ConsentStatus.RET]
        subscription = _Sql(f"CASE fresh.status WHEN '{ConsentStatus.ONAY}' THEN '{onay}' ELSE '{ret}' END")
    inserts = [
        _insert_select(
            Contact,
            {
                **new_row(Contact, now),
                "id": _Sql("fresh.contact_id"),
                address_field: _Sql("fresh.recipient"),
                "external_id": _Sql("fresh.external_id"),
                "sms_subscription": subscription,
            },
            params,
        ),
        _insert_select(
            Consent,
            {
                "id": _Sql("fresh.consent_id"),
                "recipient": _Sql("fresh.recipient"),
                "type": consent_type,
                "recipient_type": RecipientType.BIREYSEL,
                "status": _Sql("fresh.status"),
                "consent_date": _Sql("fresh.consent_date"),
                "source": _Sql("fresh.source"),
                "contact_id": _Sql("fresh.contact_id"),
                "iys_confirmed_at": now if origin == ChangeOrigin.IYS_PULL else None,
                "iys_checked_at": None,
                "updated_at": now,
            },
            params,
        ),
        _insert_select(
            ConsentChange,
            {
                "id": _Sql("fresh.change_id"),
                "consent_id": _Sql("fresh.consent_id"),
                "contact_id": _Sql("fresh.contact_id"),
                "recipient": _Sql("fresh.recipient"),
                "recipient_type": RecipientType.BIREYSEL,
                "type": consent_type,
                "status": _Sql("fresh.status"),
                "previous_status": "",
                "consent_date": _Sql("fresh.consent_date"),
                "source": _Sql("fresh.source"),
                "origin": origin,
                "origin_ref": origin_ref,
                "file_transfer_id": getattr(file_transfer, "pk", None),
                "acting_user_id": getattr(acting_user, "pk", None),
                "acting_username": getattr(acting_user, "username", "") or "",
                "created_at": now,
            },
            params,
        ),
    ]
    if account_id is not None:
        inserts.append(
            _insert_select(
                IysSubmission,
                {
                    **new_row(IysSubmission, now),
                    "change_id": _Sql("fresh.change_id"),
                    "account_id": account_id,
                    "recipient": _Sql("fresh.recipient"),
                    "state": _Sql(
                        f"CASE fresh.skip_reason WHEN '' THEN '{SubmissionState.PENDING}' "
                        f"ELSE '{SubmissionState.SKIPPED}' END"
                    ),
                    "deadline": _Sql("fresh.deadline"),
                    "skip_reason": _Sql("fresh.skip_reason"),
                },
                params,
            )
        )
    return inserts


def consent_apply_fresh(
    *,
    records: Sequence,
    consent_type: str,
    address_field: str,
    origin: str,
    origin_ref: str = "",
    file_transfer=None,
    acting_user=None,
    candidates: FreshCandidates | None = None,
) -> set[int]:
    """consent_apply's set-based form for what neither the ledger nor the contacts have seen yet
    (most lines of a first upload), on PostgreSQL: one statement finds the records whose
    recipient has no consent of `consent_type` and no contact (by `address_field`, and by
    external id where the record has one), and writes for each a new contact, its consent and
    the history row (with its İYS submission in Sync mode): each such change is "created".
    Records are objects with recipient, external_id, status, consent_date and source;
    `candidates`: fresh_candidates(records, consent_type), if already worked out. Returns the
    positions it applied; the caller passes the others to consent_apply. Only records whose
    recipient and external id appear once in `records` and that pass consent_apply's checks are
    considered, so what is left has nothing in common with what was applied here, and the
    outcome is the one consent_apply gives (tests/consent/test_fresh_path.py compares both)."""
    assert origin in ChangeOrigin.values
    # WHATSAPP goes through consent_apply, which sets the contact's WhatsApp fields and sends nothing to İYS
    assert consent_type in IYS_TYPES, f"the fresh path writes İYS's types, not {consent_type}"
    if connection.vendor != "postgresql" or not records:
        return set()
    if candidates is None:
        candidates = fresh_candidates(records, consent_type)
    if not candidates.positions:
        return set()
    now = timezone.now()
    account_id = None if origin in NOT_SENT_TO_IYS else sync_account_id()
    arrays = list(candidates.arrays)
    if account_id is not None:
        from consent.iys.calendar import add_business_days

        chosen = [records[i] for i in candidates.positions]
        deadlines = {d: add_business_days(d, 3) for d in {r.consent_date for r in chosen}}
        arrays.append(pg_text_array([deadlines[r.consent_date].isoformat() for r in chosen]))
        arrays.append(pg_text_array([not_for_iys(r.recipient, r.status, "") for r in chosen]))
    else:
        arrays += ["{}", "{}"]
    qn = connection.ops.quote_name
    params: list = []
    with connection.cursor() as cursor:
        # the look-ups are costed high, so PostgreSQL would compile the statement (JIT) for each
        # batch: 15 ms of compiling to save none (for this transaction only)
        cursor.execute("SET LOCAL jit = off")
        sequences = [sequence_name(cursor, m) for m in (Contact, Consent, ConsentChange)]
        inserts = _fresh_inserts(
            consent_type=consent_type,
            address_field=address_field,
            origin=origin,
            origin_ref=origin_ref,
            file_transfer=file_transfer,
            acting_user=acting_user,
            account_id=account_id,
            now=now,
            params=params,
        )
        contact_table, consent_table = qn(Contact._meta.db_table), qn(Consent._meta.db_table)
        address = qn(Contact._meta.get_field(address_field).column)
        # Names from the models, values as parameters. OFFSET 0 keeps each test a look-up in an
        # index per line: as a join, PostgreSQL may hash or scan the whole table for every batch
        # (quadratic while a table grown from empty has no statistics yet).
        new_only = (
            f"NOT EXISTS (SELECT FROM {contact_table} c WHERE c.{address} = batch.recipient OFFSET 0)"  # noqa: S608
            " AND (batch.external_id IS NULL OR NOT EXISTS"
            f" (SELECT FROM {contact_table} c WHERE c.external_id = batch.external_id OFFSET 0))"
            f" AND NOT EXISTS (SELECT FROM {consent_table} k WHERE k.recipient = batch.recipient"
            " AND k.type = %s AND k.recipient_type = %s OFFSET 0)"
        )
        writes = "".join(f", w{i} AS ({insert})" for i, insert in enumerate(inserts))
        sql = (
            "WITH batch AS MATERIALIZED (SELECT * FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[],"  # noqa: S608
            " %s::timestamptz[], %s::text[], %s::timestamptz[], %s::text[])"
            " AS b(position, recipient, external_id, status, consent_date, source, deadline, skip_reason)),"
            " fresh AS MATERIALIZED (SELECT batch.*, nextval(%s::regclass) AS contact_id,"
            " nextval(%s::regclass) AS consent_id, nextval(%s::regclass) AS change_id"
            f" FROM batch WHERE {new_only} ORDER BY batch.position){writes} SELECT position FROM fresh"
        )
        cursor.execute(sql, [*arrays, *sequences, consent_type, RecipientType.BIREYSEL, *params])
        applied = {row[0] for row in cursor.fetchall()}
    if applied and changes_appended.has_listeners():
        changes_appended.send(
            sender=ConsentChange, changes=_fresh_changes(records, sorted(applied), consent_type, origin)
        )
    return applied


def _fresh_changes(records: Sequence, positions: list[int], consent_type: str, origin: str):
    """changes_appended's changes for the fresh path, made only if a listener reads them."""
    for i in positions:
        yield {
            "recipient": records[i].recipient,
            "recipient_type": RecipientType.BIREYSEL,
            "type": consent_type,
            "status": records[i].status,
            "previous_status": "",
            "consent_date": records[i].consent_date,
            "source": records[i].source,
            "origin": origin,
        }
