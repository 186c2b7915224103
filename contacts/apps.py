from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Targeting")

    def ready(self):
        # project-wide query helpers every app uses (the `any_of` lookup): registered at start-up
        import config.db  # noqa: F401
