"""Demo data for `make run`: a few hundred contacts with mixed statuses and consents.
Idempotent: contacts are keyed by external id `demo-NNNN`; running it again changes nothing.
SMS subscriptions and WhatsApp consents come from MESAJ and WHATSAPP consents written through the
ledger (one truth, two views)."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction

from consent.models import ChangeOrigin, ConsentStatus, ConsentType
from consent.services import ConsentInput, consent_apply
from contacts.models import Contact, ContactList, PhoneStatus
from contacts.services import contact_list_add

FIRST_NAMES = ["Ayşe", "Mehmet", "Zeynep", "Mustafa", "Elif", "Ahmet", "Fatma", "Emre", "Selin", "Can", "Sarah", "John"]
CITIES = ["İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Adana", "Konya", "London"]


class Command(BaseCommand):
    help = "Load demo contacts and lists (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=300)

    @transaction.atomic
    def handle(self, *args, count, **options):
        rng = random.Random(20251115)
        wanted = []
        whatsapp = {}  # external id → the WhatsApp consent status, written through the ledger below
        for i in range(1, count + 1):
            turkish = i % 10 != 0
            phone = f"+90533{1000000 + i:07d}" if turkish else f"+4477009{i:05d}"
            has_wa = i % 3 == 0
            phone_status = rng.choices(list(PhoneStatus), weights=[90, 6, 4])[0]
            if has_wa:
                whatsapp[f"demo-{i:04d}"] = rng.choice([ConsentStatus.ONAY, ConsentStatus.RET])
            wanted.append(
                Contact(
                    external_id=f"demo-{i:04d}",
                    email=f"demo{i}@example.com" if i % 4 else None,
                    phone=phone if i % 25 else None,
                    whatsapp_number=phone if has_wa else None,
                    phone_status=phone_status,
                    attributes={"name": rng.choice(FIRST_NAMES), "city": rng.choice(CITIES)},
                )
            )
        existing = set(Contact.objects.filter(external_id__startswith="demo-").values_list("external_id", flat=True))
        Contact.objects.bulk_create([c for c in wanted if c.external_id not in existing], batch_size=1000)
        created = len(wanted) - len(existing & {c.external_id for c in wanted})
        ids = dict(Contact.objects.filter(external_id__startswith="demo-").values_list("external_id", "pk"))
        start = datetime(2025, 1, 6, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))
        changes = []
        for contact in wanted:
            status = rng.choices([ConsentStatus.ONAY, ConsentStatus.RET, None], weights=[60, 25, 15])[0]
            if status and contact.phone:
                changes.append(
                    ConsentInput(
                        recipient=contact.phone,
                        type=ConsentType.MESAJ,
                        status=status,
                        source="HS_WEB",
                        consent_date=start + timedelta(hours=rng.randrange(0, 24 * 300)),
                        contact_id=ids.get(contact.external_id),
                        origin_ref="demo data",
                    )
                )
        changes += [
            ConsentInput(
                recipient=contact.whatsapp_number,
                type=ConsentType.WHATSAPP,
                status=whatsapp[contact.external_id],
                source="HS_WEB",
                consent_date=start + timedelta(hours=rng.randrange(0, 24 * 300)),
                contact_id=ids.get(contact.external_id),
                origin_ref="demo data",
            )
            for contact in wanted
            if contact.whatsapp_number
        ]
        consent_apply(changes=changes, origin=ChangeOrigin.ADMIN)
        vip, _ = ContactList.objects.get_or_create(name="Demo: VIP customers")
        contact_list_add(
            contact_list=vip,
            contact_ids=[ids[f"demo-{i:04d}"] for i in range(1, count + 1, 7) if f"demo-{i:04d}" in ids],
        )
        self.stdout.write(f"demo data: {created} contacts created, {len(ids)} demo contacts in all")
