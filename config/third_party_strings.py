"""Names of third-party models the panel shows in its navigation, for our catalogue: their apps
ship no Turkish. gettext_noop only marks them, so `makemessages` keeps the entries; at run time
the app's own gettext call finds our translation (LOCALE_PATHS come first)."""

from django.utils.translation import gettext_noop

DJANGO_CELERY_BEAT = [
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("clocked"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
]
