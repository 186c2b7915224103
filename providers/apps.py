from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _after_migrate(sender, **kwargs):
    # Runs once per migrate (for this app's signal): roles cover models added since, and the
    # default beat schedule is installed without overwriting edits made in the admin.
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from providers.roles import sync_role_groups

    # the embedded default's cache is a table (settings: CACHES); nothing to do for Redis
    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)
    for app_config in apps.get_app_configs():  # apps after this one get theirs later otherwise
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    sync_role_groups(Group, Permission)
    for name, entry in settings.CELERY_BEAT_DEFAULTS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=entry["every_seconds"], period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.create(
            name=name,
            task=entry["task"],
            interval=interval,
            queue=entry.get("queue"),
            description=entry.get("description", ""),
        )


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = _("Connectors")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed

        from providers.roles import on_groups_changed

        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="providers_after_migrate")
        m2m_changed.connect(
            on_groups_changed, sender=get_user_model().groups.through, dispatch_uid="providers_staff_follows_role"
        )
        from providers import snapshots

        snapshots.connect()  # a saved or deleted account makes every process read the accounts again
