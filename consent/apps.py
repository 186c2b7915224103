from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self):
        from consent.implied import follow_addresses
        from contacts.signals import addresses_changed

        addresses_changed.connect(follow_addresses, sender=None, dispatch_uid="consent.follow_addresses")
