"""The rejected-lines report of a File Transfer: CSV of line number, raw line, reason. The header
is in the language active when the report is written, as the stored reasons were (contacts.parsers)."""

from __future__ import annotations

import csv
import os

from django.conf import settings
from django.utils.translation import gettext_lazy

from contacts.cells import safe_cell
from contacts.models import FileTransfer

HEADER = [gettext_lazy("line"), gettext_lazy("raw line"), gettext_lazy("reason")]


class _Echo:
    def write(self, value):
        return value


def rejected_report_rows(transfer: FileTransfer):
    """CSV text rows, streamed from the database (never the whole report in memory)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(name) for name in HEADER])  # BOM: Excel opens Turkish characters right
    for line_no, raw, reason in (
        transfer.rejected_lines.order_by("line_no").values_list("line_no", "raw", "reason").iterator(chunk_size=2000)
    ):
        yield writer.writerow([line_no, safe_cell(raw), safe_cell(reason)])  # a raw line may be a formula


def rejected_report_file(transfer: FileTransfer) -> str:
    """Write the report under MEDIA_ROOT/reports/ and return its path (for import_file)."""
    folder = os.path.join(settings.MEDIA_ROOT, "reports")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"file-transfer-{transfer.pk}-rejected.csv")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.writelines(rejected_report_rows(transfer))
    return path
