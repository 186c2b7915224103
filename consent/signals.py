"""What the consent ledger tells the rest of the panel, inside the transaction that wrote it."""

from django.dispatch import Signal

# changes: an iterable (read once) of dicts (recipient, recipient_type, type, status, previous_status, consent_date,
# source, origin), one per history row appended, sent by consent_apply and consent_apply_fresh
changes_appended = Signal()
