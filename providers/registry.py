"""Connector registry: name -> dotted path, imported lazily (healthchecks' TRANSPORTS pattern).
To add a provider: write providers/<name>/ with a Connector subclass and list it here."""

from __future__ import annotations

from django.utils.module_loading import import_string

from providers.base import Connector

CONNECTORS: dict[str, str] = {
    "console": "providers.console.ConsoleConnector",
    "infobip": "providers.infobip.InfobipConnector",
    "instasent": "providers.instasent.InstasentConnector",
    "jetsms": "providers.jetsms.JetSmsConnector",
    "netgsm": "providers.netgsm.NetgsmConnector",
    "whatsapp": "providers.whatsapp.WhatsAppConnector",
    "iys": "consent.iys.connector.IysConnector",  # registers into providers without providers importing consent
}


class UnknownConnector(LookupError):
    pass


def connector_class(name: str) -> type[Connector]:
    try:
        return import_string(CONNECTORS[name])
    except KeyError:
        known = ", ".join(sorted(CONNECTORS))
        raise UnknownConnector(f"unknown connector {name!r}; known connectors: {known}") from None


def connector_choices() -> list[tuple[str, str]]:
    return [(name, str(connector_class(name).label)) for name in sorted(CONNECTORS)]
