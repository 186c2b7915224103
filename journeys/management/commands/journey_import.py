"""python manage.py journey_import FILE: a file of journey_export as a new draft, or as the next
version of the journey of that name."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from journeys.services import JourneyError, journey_import


class Command(BaseCommand):
    help = "Import a journey file: a new draft, or the next version of the journey with that name."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        try:
            journey = journey_import(text=text)
        except JourneyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"journey {journey.name!r}: version {journey.version.number}, {journey.get_status_display().lower()}"
        )
