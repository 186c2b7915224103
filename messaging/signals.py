"""What the messaging core tells the rest of the panel, inside the transaction that did it (so a
listener's rows, e.g. outgoing webhook deliveries, commit or roll back with the change)."""

from django.dispatch import Signal

# changes: an iterable (read once) of dicts (id, channel, to, campaign_id, status, raw_status,
# reason, at), one per forward move (or WhatsApp read), sent by messaging.delivery and a cancel
status_moved = Signal()

# account: the ProviderAccount; inbound: list of providers.base.InboundMessage, after the channel handled them
inbound_received = Signal()
