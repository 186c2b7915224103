from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = _("Journeys")

    def ready(self):
        from consent.signals import changes_appended
        from contacts.signals import event_recorded, list_joined
        from journeys import entry
        from messaging.signals import status_moved

        list_joined.connect(entry.on_list_joined, dispatch_uid="journeys_list_joined")
        event_recorded.connect(entry.on_event_recorded, dispatch_uid="journeys_event_recorded")
        changes_appended.connect(entry.on_consent_changes, dispatch_uid="journeys_consent_changed")
        status_moved.connect(entry.on_status_moved, dispatch_uid="journeys_message_status")
