"""What the messaging core tells the rest of the panel, inside the transaction that did it (so a
listener's rows, e.g. outgoing webhook deliveries, commit or roll back with the change)."""

from django.dispatch import Signal

# changes: list of dicts (id, channel, to, status, raw_status, reason, at, campaign_id, read_at),
# one per message whose status moved forward (or that was read), sent by messaging.delivery
status_moved = Signal()

# account: the ProviderAccount; inbound: list of providers.base.InboundMessage, after the channel handled them
inbound_received = Signal()
