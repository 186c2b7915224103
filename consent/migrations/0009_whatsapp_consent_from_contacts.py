"""Every contact's WhatsApp consent (opt-in / opt-out on its WhatsApp number, with its date and
source) becomes a WHATSAPP consent in the ledger with one history row saying where it came from:
origin "migrated", the reference the contact's source text. The contact keeps its values; an empty
date or source is filled with what the ledger now holds (the contact's last update, the
migration's words), so the fields are what the ledger implies. A consent without a number has no
recipient and stays on its contact as it was. Reversible: the rows this migration wrote go."""

from django.db import migrations
from django.utils import timezone

CHUNK = 2000
STATUS = {"opt_in": "ONAY", "opt_out": "RET"}
MIGRATED = "migrated from the contact's WhatsApp consent field"


def forward(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    Consent = apps.get_model("consent", "Consent")
    ConsentChange = apps.get_model("consent", "ConsentChange")
    now = timezone.now()
    contacts = (
        Contact.objects.filter(whatsapp_number__isnull=False, whatsapp_consent__in=list(STATUS))
        .order_by("pk")
        .values_list("pk", "whatsapp_number", "whatsapp_consent", "whatsapp_consent_at", "whatsapp_consent_source",
                     "updated_at")
    )
    chunk = []
    for row in contacts.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            _migrate(chunk, Contact, Consent, ConsentChange, now)
            chunk = []
    _migrate(chunk, Contact, Consent, ConsentChange, now)


def _migrate(rows, Contact, Consent, ConsentChange, now):
    if not rows:
        return
    known = set(
        Consent.objects.filter(type="WHATSAPP", recipient__in=[r[1] for r in rows]).values_list("recipient", flat=True)
    )
    rows = [r for r in rows if r[1] not in known]  # already in the ledger (a second run): left as it is
    wanted = {}
    for pk, number, consent, at, source, updated_at in rows:
        wanted[number] = (pk, STATUS[consent], at or min(updated_at, now), (source or MIGRATED)[:255])
    Consent.objects.bulk_create(
        Consent(
            recipient=number,
            recipient_type="BIREYSEL",
            type="WHATSAPP",
            status=status,
            consent_date=date,
            source="NOT_STATED",
            contact_id=pk,
        )
        for number, (pk, status, date, _) in wanted.items()
    )
    ids = dict(
        Consent.objects.filter(type="WHATSAPP", recipient__in=list(wanted)).values_list("recipient", "pk")
    )
    ConsentChange.objects.bulk_create(
        ConsentChange(
            consent_id=ids[number],
            contact_id=pk,
            recipient=number,
            recipient_type="BIREYSEL",
            type="WHATSAPP",
            status=status,
            previous_status="",
            consent_date=date,
            source="NOT_STATED",
            origin="migrated",
            origin_ref=reference,
        )
        for number, (pk, status, date, reference) in wanted.items()
    )
    filled = []
    for pk, number, _, at, source, _ in rows:
        _, _, date, reference = wanted[number]
        if at is None or not source:
            filled.append(Contact(pk=pk, whatsapp_consent_at=date, whatsapp_consent_source=reference))
    Contact.objects.bulk_update(filled, ["whatsapp_consent_at", "whatsapp_consent_source"], batch_size=500)


def backward(apps, schema_editor):
    Consent = apps.get_model("consent", "Consent")
    ConsentChange = apps.get_model("consent", "ConsentChange")
    migrated = ConsentChange.objects.filter(type="WHATSAPP", origin="migrated")
    consent_ids = sorted(set(migrated.values_list("consent_id", flat=True)))
    migrated.delete()
    for start in range(0, len(consent_ids), CHUNK):
        ids = consent_ids[start : start + CHUNK]
        # a consent that changed after the migration keeps its later history, and so stays
        later = set(ConsentChange.objects.filter(consent_id__in=ids).values_list("consent_id", flat=True))
        Consent.objects.filter(pk__in=[pk for pk in ids if pk not in later]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("consent", "0008_whatsapp_consent_type"),
        ("contacts", "0005_file_transfer_runs_without_progress"),
    ]

    operations = [migrations.RunPython(forward, backward)]
