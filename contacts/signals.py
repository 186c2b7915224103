"""What the contacts app tells the rest of the panel (journeys start from these), inside the
transaction that did it, so a listener's rows commit or roll back with the change."""

from django.dispatch import Signal

# contact_list: the ContactList; contact_ids: the ids newly on it (by upload, the API or the panel)
list_joined = Signal()

# event: the ContactEvent just recorded (the API's POST /api/v1/events)
event_recorded = Signal()
