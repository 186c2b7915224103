"""`python manage.py seed_journey_demo`: a draft journey to look at and activate on the embedded
default (its SMS go through the console account). Idempotent; run by `make run`."""

from django.core.management.base import BaseCommand

from contacts.models import ContactList
from journeys.models import Journey
from journeys.services import journey_save_steps

NAME = "Demo: welcome"
STEPS = {
    "start": "welcome",
    "steps": {
        "welcome": {
            "type": "send_sms",
            "kind": "newsletter",
            "text": "Hoş geldin {{name|Müşterimiz}}!",
            "next": "wait",
        },
        "wait": {
            "type": "wait_delivery",
            "of": "welcome",
            "seconds": 3600,
            "delivered": "next-day",
            "not_delivered": "",
        },
        "next-day": {"type": "wait", "until": "10:00", "next": "city"},
        "city": {
            "type": "condition",
            "conditions": {
                "match": "all",
                "conditions": [{"type": "attribute", "name": "city", "op": "equals", "value": "İstanbul"}],
            },
            "yes": "istanbul",
            "no": "",
        },
        "istanbul": {
            "type": "send_sms",
            "kind": "newsletter",
            "text": "İstanbul mağazamızda sizi bekliyoruz.",
            "next": "",
        },
    },
}


class Command(BaseCommand):
    help = "Make the demo journey (a draft) if it does not exist."

    def handle(self, *args, **options):
        if Journey.objects.filter(name=NAME).exists():
            return
        members, _ = ContactList.objects.get_or_create(name="Demo: new members")
        journey = Journey.objects.create(
            name=NAME, description="SMS, then a city offer the next morning if it was delivered.",
            entry="list", entry_list=members, re_entry="once",
        )  # fmt: skip
        journey_save_steps(journey=journey, definition=STEPS)
        self.stdout.write(f"made the draft journey '{NAME}' (activate it, then add contacts to '{members.name}')")
