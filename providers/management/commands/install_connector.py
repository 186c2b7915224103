"""`python manage.py install_connector TYPE --name NAME --set KEY=VALUE ...`: the admin's install
form from the command line, with the same validation. Settings not given take the form's defaults
(or, on an update, keep their stored values). Running it again updates the account."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from providers.base import MessagingConnector
from providers.registry import UnknownConnector, connector_class
from providers.services import account_check, account_install


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--set takes KEY=VALUE, got {pair!r}")
        values[key.strip()] = value
    return values


class Command(BaseCommand):
    help = "Install or update a connector account (same validation as the admin form)."

    def add_arguments(self, parser):
        parser.add_argument("connector", help="connector type, e.g. console, infobip, iys")
        parser.add_argument("--name", help="account name (default: the connector type)")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="pairs")
        parser.add_argument("--inactive", action="store_true")
        parser.add_argument("--test", action="store_true", help="run the connection test afterwards")

    def handle(self, *args, connector, name, pairs, inactive, test, **options):
        values = parse_pairs(pairs)
        try:
            connector_class(connector)
            account = account_install(
                name=name or connector, connector=connector, values=values, is_active=not inactive
            )
        except UnknownConnector as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            lines = [f"{field}: {' '.join(errors)}" for field, errors in getattr(exc, "message_dict", {}).items()]
            raise CommandError("; ".join(lines) or " ".join(exc.messages)) from exc
        self.stdout.write(f"installed {account.connector} account {account.name!r} (id {account.pk})")
        connector_ = account.connector_instance()
        if isinstance(connector_, MessagingConnector) and connector_.has_webhook:
            self.stdout.write(
                f"callback URL (paste it into the provider's dashboard for delivery reports and replies): "
                f"{account.webhook_url}"
            )
            if not settings.PUBLIC_BASE_URL:
                self.stdout.write(
                    "  (PUBLIC_BASE_URL is not set: the address above becomes the one the panel is opened on "
                    "once an admin opens this account's page; set PUBLIC_BASE_URL to fix it)"
                )
            if token := getattr(connector_, "verify_token", ""):
                self.stdout.write(f"verify token (paste it beside the callback URL in Meta's app dashboard): {token}")
        if test:
            result = account_check(account_id=account.pk)
            self.stdout.write(
                ("connection test passed: " if result.ok else "connection test FAILED: ") + result.message
            )
            if not result.ok:
                raise CommandError(result.message)
