"""What the contacts app tells the rest of the panel (journeys start from these), inside the
transaction that did it, so a listener's rows commit or roll back with the change."""

from django.dispatch import Signal

# contact_list: the ContactList; contact_ids: the ids newly on it (by upload, the API or the panel)
list_joined = Signal()

# event: the ContactEvent just recorded (the API's POST /api/v1/events)
event_recorded = Signal()

# phone / whatsapp_number: ids of contacts whose phone / WhatsApp number was just set, changed or
# cleared by a contacts write (the API, the contact page, the Contacts page import, an upload):
# a consent belongs to its number, so the consent app makes their SMS subscription and WhatsApp
# consent what the ledger holds for the number they have now (consent.implied.follow_addresses)
addresses_changed = Signal()
