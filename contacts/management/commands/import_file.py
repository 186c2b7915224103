"""`python manage.py import_file KIND PATH [--name NAME] [--json]`: the File Transfers pipeline,
synchronously, for ops. Exits non-zero when the file is refused."""

import json
import os

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from contacts.imports import file_transfer_create, file_transfer_run
from contacts.models import FileEncoding, FileTransferKind, FileTransferStatus
from contacts.reports import rejected_report_file


class Command(BaseCommand):
    help = "Import a file of one of the File Transfer kinds (users, sms-iys, email-iys, whatsapp)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=FileTransferKind.values)
        parser.add_argument("path")
        parser.add_argument("--name", help="the name shown in File Transfers (default: the file name)")
        parser.add_argument("--encoding", choices=FileEncoding.values, default=FileEncoding.AUTO)
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="end with one JSON object on the last line"
        )

    def handle(self, *args, kind, path, name, encoding, as_json: bool, **options):
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file")
        try:
            with open(path, "rb") as fh:
                transfer = file_transfer_create(
                    name=name or os.path.basename(path),
                    kind=kind,
                    upload=File(fh, name=os.path.basename(path)),
                    encoding=encoding,
                    enqueue=False,
                )
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        transfer = file_transfer_run(transfer_id=transfer.pk)
        report = rejected_report_file(transfer) if transfer.rejected_count else ""
        status = transfer.get_status_display()
        self.stdout.write(
            f"{transfer.name}: {status} (id {transfer.pk}, encoding {transfer.detected_encoding})"
            f"\n  read {transfer.read_count}, created {transfer.created_count}, updated {transfer.updated_count}, "
            f"unchanged {transfer.unchanged_count}, rejected {transfer.rejected_count}"
        )
        if transfer.error:
            self.stdout.write(f"  {transfer.error}")
        for line in transfer.rejected_lines.all()[:10]:
            self.stdout.write(f"  line {line.line_no}: {line.reason}")
        if transfer.rejected_count > 10:
            self.stdout.write(f"  ... and {transfer.rejected_count - 10} more rejected lines (see the report)")
        if report:
            self.stdout.write(f"  report of rejected lines: {report}")
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "id": transfer.pk,
                        "status": transfer.status,
                        "read": transfer.read_count,
                        "created": transfer.created_count,
                        "updated": transfer.updated_count,
                        "unchanged": transfer.unchanged_count,
                        "rejected": transfer.rejected_count,
                        "report": report,
                        "error": transfer.error,
                    },
                    ensure_ascii=False,
                )
            )
        if transfer.status == FileTransferStatus.FAILED:
            raise CommandError(transfer.error)
