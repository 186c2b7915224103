"""Thin Celery wrappers (queue `sending`, routed in settings)."""

from celery import shared_task
from django.conf import settings


@shared_task(name="journeys.tasks.run_journeys", ignore_result=True)
def run_journeys() -> int:
    """Run due steps for a while (queued when contacts enter or a delivery report wakes a wait)."""
    from journeys.engine import enrolments_run_due

    return enrolments_run_due(budget_seconds=None if settings.CELERY_TASK_ALWAYS_EAGER else 20)


@shared_task(name="journeys.tasks.journeys_tick", ignore_result=True)
def journeys_tick() -> int:
    """Beat: timers that came due, and enrolments whose worker stopped."""
    from journeys.engine import enrolments_free_stale, enrolments_run_due

    enrolments_free_stale()
    return enrolments_run_due(budget_seconds=None if settings.CELERY_TASK_ALWAYS_EAGER else 4)


@shared_task(name="journeys.tasks.enrol_audience", acks_late=True)
def enrol_audience(journey_id: int) -> int:
    """A one-off audience enters (in chunks; a redelivered task skips who entered already)."""
    from journeys.entry import journey_enrol_audience
    from journeys.models import Journey

    return journey_enrol_audience(journey=Journey.objects.get(pk=journey_id))
