"""Downloads of messages as CSV or XLSX: Message History as filtered in its list, and one
campaign's report. Rows come from the database a chunk at a time (never the whole table in
memory); CSV is streamed as it is written, XLSX is written by openpyxl's write-only mode into a
temporary file on disk and then streamed. Every text cell goes through contacts.cells.safe_cell,
the one rule for hostile cells of every download."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.dashboard import local_zone
from contacts.cells import safe_cell
from messaging.models import Message, MessageStatus
from providers.base import Channel

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    field: str  # a Message field (or a lookup such as campaign__name) read with values_list
    title: str
    kind: str = "text"  # text | time | status | channel | number


def history_columns() -> list[Column]:
    return [
        Column("id", _("Message id"), "number"),
        Column("created_at", _("Created"), "time"),
        Column("to", _("Recipient")),
        Column("channel", _("Channel"), "channel"),
        Column("kind", _("Kind")),
        Column("campaign__name", _("Campaign")),
        Column("status", _("Status"), "status"),
        Column("raw_status", _("Provider status")),
        Column("segments", _("Segments"), "number"),
        Column("sent_at", _("Accepted by the provider"), "time"),
        Column("done_at", _("Final status at"), "time"),
        Column("read_at", _("Read at"), "time"),
        Column("reason", _("Error or reason")),
    ]


def campaign_columns() -> list[Column]:
    return [
        Column("id", _("Message id"), "number"),
        Column("to", _("Recipient")),
        Column("contact__external_id", _("Contact (external id)")),
        Column("status", _("Status"), "status"),
        Column("raw_status", _("Provider status")),
        Column("created_at", _("Created"), "time"),
        Column("sent_at", _("Accepted by the provider"), "time"),
        Column("done_at", _("Final status at"), "time"),
        Column("read_at", _("Read at"), "time"),
        Column("reason", _("Error or reason")),
    ]


def _local(value: datetime | None) -> datetime | None:
    # spreadsheets know no time zones: the wall-clock time in Europe/Istanbul, as the panel shows it
    return None if value is None else timezone.localtime(value, local_zone()).replace(tzinfo=None, microsecond=0)


def export_rows(queryset: QuerySet[Message], columns: list[Column]) -> Iterator[list]:
    """Each message of `queryset` (in its order) as cell values: times local and naive, labels
    translated, text made safe."""
    statuses = dict(MessageStatus.choices)
    channels = dict(Channel.choices)
    fields = [c.field for c in columns]
    for row in queryset.values_list(*fields).iterator(chunk_size=2000):
        cells = []
        for column, value in zip(columns, row, strict=True):
            if column.kind == "time":
                cells.append(_local(value))
            elif column.kind == "status":
                cells.append(str(statuses.get(value, value)))
            elif column.kind == "channel":
                cells.append(str(channels.get(value, value)))
            elif column.kind == "number":
                cells.append(value)
            else:
                cells.append(safe_cell(value or ""))  # a recipient or a provider's error may be a formula
        yield cells


class _Echo:
    def write(self, value):
        return value


def _csv_value(value):
    if value is None:
        return ""
    return f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else value


def _csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # BOM: Excel opens Turkish characters right
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


def export_response(queryset: QuerySet[Message], columns: list[Column], *, fmt: str, filename: str):
    """The download of `queryset` in `fmt` (csv or xlsx), named `filename` plus the extension."""
    header = [safe_cell(str(c.title)) for c in columns]
    rows = export_rows(queryset, columns)
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    if fmt != "xlsx":
        raise ValueError(f"no export format {fmt!r}")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)  # rows go to a temporary file as they come, not into memory
    sheet = book.create_sheet(_("Messages")[:31])
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, str):
                cell.data_type = "s"  # text stays text: never read back as a formula
            cells.append(cell)
        sheet.append(cells)
    out = tempfile.TemporaryFile()  # closed by FileResponse once sent
    book.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_TYPE)
