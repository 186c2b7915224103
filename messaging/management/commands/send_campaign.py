"""`python manage.py send_campaign ID [--dry-run]` sends (or previews) a saved campaign of any channel;
`python manage.py send_campaign --list NAME --text TEXT --kind newsletter|transactional --sender NAME
--account ACCOUNT [--dry-run]` creates an SMS one for a list and sends it;
`python manage.py send_campaign --channel whatsapp --list NAME --template TEMPLATE_NAME [--language tr]
[--var 1=FIELD …] --account NAME [--dry-run]` a WhatsApp one. Prints the id and the preview; sends
synchronously and prints the outcome."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contacts.models import ContactList
from messaging.channels import adapter
from messaging.dispatch import campaign_dispatch
from messaging.models import Audience, Campaign, CampaignStatus
from messaging.selectors import NoAccount, campaign_preview, campaign_statistics, channel_account
from messaging.services import CampaignError, campaign_create, campaign_prepare, campaign_start


def errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Send a campaign (or create one for a list and send it); --dry-run only previews."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", nargs="?", type=int)
        parser.add_argument("--channel", choices=sorted(settings.MESSAGING_CHANNELS), default="sms")
        parser.add_argument("--list", dest="list_name", help="static list to send to (creates a campaign)")
        parser.add_argument("--text", help="SMS: the text, with {{variables}}")
        parser.add_argument("--template", help="the template's name (WhatsApp: an approved template)")
        parser.add_argument("--language", default="tr", help="WhatsApp: the template's language (default tr)")
        parser.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="[PART.]N=FIELD[|DEFAULT]",
            help="WhatsApp: bind a variable to a contact field or attribute, e.g. 1=name|Müşterimiz, "
            "header.1=city, button:0.1=external_id (the part is body when not given)",
        )
        parser.add_argument(
            "--kind", choices=["newsletter", "transactional"], default="newsletter", help="SMS (WhatsApp: the category)"
        )
        parser.add_argument("--sender", default="")
        parser.add_argument("--account", help="provider account name (default: the channel's only active account)")
        parser.add_argument("--name", help="campaign name (default: list name and text start)")
        parser.add_argument("--dry-run", action="store_true", help="print the preview; send nothing")

    def handle(self, *args, campaign_id, list_name, account, name, dry_run, **options):
        if (campaign_id is None) == (list_name is None):
            raise CommandError("give either a campaign ID or --list NAME (with --text, or --template on WhatsApp)")
        try:
            campaign = self._existing(campaign_id) if campaign_id else self._create(list_name, account, name, options)
        except ValidationError as exc:
            raise CommandError(errors_text(exc)) from exc
        self.stdout.write(f"campaign {campaign.pk}: {campaign.name!r} ({campaign.get_kind_display()})")
        self._print_preview(campaign)
        if dry_run:
            self.stdout.write("dry run: nothing sent")
            return
        try:
            campaign = campaign_start(campaign_id=campaign.pk)
        except (CampaignError, ValidationError) as exc:
            raise CommandError(errors_text(exc) if isinstance(exc, ValidationError) else str(exc)) from exc
        if campaign.status == CampaignStatus.SCHEDULED:
            self.stdout.write(f"scheduled for {campaign.send_at:%Y-%m-%d %H:%M} (the beat scheduler starts it)")
            return
        # synchronous: makes the rows and sends what workers have not (they share the work safely)
        campaign_prepare(campaign_id=campaign.pk)
        outcome = campaign_dispatch(campaign_id=campaign.pk)
        campaign.refresh_from_db()
        stats = campaign_statistics(campaign)
        self.stdout.write(
            f"status {campaign.status}: {stats.total} messages, {stats.handed_over} accepted by the provider, "
            f"{stats.delivered} delivered, {stats.count('skipped')} skipped at send time, "
            f"{stats.count('failed', 'rejected')} failed or rejected"
            + ("" if outcome.done else "; workers are still sending the rest")
        )

    def _existing(self, campaign_id):
        try:
            return Campaign.objects.select_related("account").get(pk=campaign_id)
        except Campaign.DoesNotExist:
            raise CommandError(f"there is no campaign {campaign_id}") from None

    def _create(self, list_name, account_name, name, options):
        contact_list = ContactList.objects.filter(name=list_name).first()
        if contact_list is None:
            raise CommandError(f"there is no list named {list_name!r}")
        channel = options["channel"]
        try:
            account = channel_account(channel, account_name)
        except NoAccount as exc:
            raise CommandError(str(exc)) from None
        try:
            fields = adapter(channel).command_campaign_fields(account=account, options=options)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return campaign_create(
            name=name or f"{list_name}: {fields.pop('title')}",
            channel=channel,
            account=account,
            audience=Audience.LIST,
            contact_list=contact_list,
            **fields,
        )

    def _print_preview(self, campaign):
        preview = campaign_preview(campaign)
        self.stdout.write(f"audience {preview.audience}; recipients {preview.sendable}")
        for _code, label, n in preview.exclusions:
            self.stdout.write(f"  excluded: {label}: {n}")
        self.stdout.write(f"sample text: {preview.sample_text}")
        self.stdout.write(
            f"{preview.cost.details}; estimated {preview.estimated_units} {preview.cost.unit_label}"
            + (f", cost {preview.estimated_cost}" if preview.estimated_cost is not None else "")
        )
        for note in preview.notes:
            self.stdout.write(f"note: {note}")
