"""python manage.py journey_export ID [--output FILE]: a journey's entry and steps as a file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from journeys.models import Journey
from journeys.services import journey_export


class Command(BaseCommand):
    help = "Write a journey (its entry, re-entry rule and latest steps) as a JSON file ops can version."

    def add_arguments(self, parser):
        parser.add_argument("journey", help="the journey's id or name")
        parser.add_argument("--output", help="the file to write (default: standard output)")

    def handle(self, *args, journey, output=None, **options):
        found = Journey.objects.filter(pk=int(journey)) if journey.isdigit() else Journey.objects.filter(name=journey)
        found = found.select_related("version", "entry_list", "entry_segment").first()
        if found is None:
            raise CommandError(f"there is no journey {journey!r} (give its id or its name)")
        text = journey_export(journey=found)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(
                f"journey {found.name!r} (version {found.version.number if found.version else 0}) → {output}"
            )
        else:
            self.stdout.write(text, ending="")
