"""Targeting → File Transfers: upload form, live list, rejected-lines report."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from contacts.forms import FileTransferForm
from contacts.imports import file_transfer_create
from contacts.models import FileTransfer, FileTransferStatus
from contacts.reports import rejected_report_rows


def _duration(transfer: FileTransfer) -> str:
    d = transfer.duration
    if d is None:
        return "—"
    seconds = int(d.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def _snapshot(transfer: FileTransfer) -> dict:
    return {
        "id": transfer.pk,
        "status": transfer.status,
        "status_label": str(transfer.get_status_display()),
        "progress": transfer.progress,
        "read": transfer.read_count,
        "created": transfer.created_count,
        "updated": transfer.updated_count,
        "unchanged": transfer.unchanged_count,
        "rejected": transfer.rejected_count,
        "duration": _duration(transfer),
        "error": transfer.error,
        "report": reverse("admin:contacts_filetransfer_report", args=[transfer.pk]) if transfer.rejected_count else "",
    }


MAX_ID = 2**31 - 1  # FileTransfer's id column


def _transfer_ids(text: str) -> list[int] | None:
    """The ids of `?ids=1,2` (blanks ignored), or None when one is not an id: str.isdigit() takes
    '²' and '٣', which int() refuses or reads as another number."""
    ids = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit() and 0 < int(part) <= MAX_ID):
            return None
        ids.append(int(part))
    return ids


@admin.register(FileTransfer)
class FileTransferAdmin(admin.ModelAdmin):
    form = FileTransferForm
    list_display = [
        "name",
        "kind",
        "status_cell",
        "progress_cell",
        "read_count",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "duration_cell",
        "uploaded_by",
        "created_at",
        "report_cell",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["name", "original_name"]
    list_select_related = ["uploaded_by"]
    show_full_result_count = False
    readonly_fields = [
        "original_name",
        "detected_encoding",
        "status",
        "error",
        "read_count",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "contact_list",
        "uploaded_by",
        "created_at",
        "started_at",
        "finished_at",
        "report_cell",
    ]

    class Media:
        js = ["panel/file_transfers.js"]
        css = {"all": ["panel/panel.css"]}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "kind", "file", "encoding"]
        return ["name", "kind", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields + (["name", "kind"] if obj else [])

    def has_change_permission(self, request, obj=None):
        return False if obj else super().has_change_permission(request, obj)

    @admin.display(description=_("status"))
    def status_cell(self, obj):
        return format_html(
            '<span data-transfer="{}" data-field="status_label">{}</span>', obj.pk, obj.get_status_display()
        )

    @admin.display(description=_("progress"))
    def progress_cell(self, obj):
        return format_html(
            '<span class="panel-progress" title="{}%"><span data-transfer="{}" data-field="progress" '
            'data-width="{}"></span></span>',  # width set by file_transfers.js (CSP: no style attributes)
            obj.progress,
            obj.pk,
            obj.progress,
        )

    @admin.display(description=_("duration"))
    def duration_cell(self, obj):
        return format_html('<span data-transfer="{}" data-field="duration">{}</span>', obj.pk, _duration(obj))

    @admin.display(description=_("rejected lines"))
    def report_cell(self, obj):
        url = reverse("admin:contacts_filetransfer_report", args=[obj.pk]) if obj.rejected_count else ""
        return format_html(
            '<a data-transfer="{}" data-field="report" href="{}"{}>{}</a>',
            obj.pk,
            url,
            "" if url else " hidden",
            _("Download report"),
        )

    def save_model(self, request, obj, form, change):
        transfer = file_transfer_create(
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            encoding=form.cleaned_data["encoding"],
            uploaded_by=request.user,
        )
        obj.pk = transfer.pk

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request, _("“%(name)s” is queued; its progress shows below.") % {"name": obj.name}, messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:contacts_filetransfer_changelist"))

    def get_urls(self):
        return [
            path(
                "progress.json", self.admin_site.admin_view(self.progress_view), name="contacts_filetransfer_progress"
            ),
            path(
                "<int:pk>/rejected.csv",
                self.admin_site.admin_view(self.report_view),
                name="contacts_filetransfer_report",
            ),
        ] + super().get_urls()

    def progress_view(self, request):
        if not self.has_view_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        ids = _transfer_ids(request.GET.get("ids", ""))
        if ids is None:
            return JsonResponse(
                {"error": "ids must be file transfer ids (whole numbers) separated by commas, e.g. ids=12,15"},
                status=400,
            )
        transfers = FileTransfer.objects.filter(pk__in=ids[:100])
        return JsonResponse(
            {
                "transfers": [_snapshot(t) for t in transfers],
                "active": [
                    t.pk for t in transfers if t.status in (FileTransferStatus.QUEUED, FileTransferStatus.PROCESSING)
                ],
            }
        )

    def report_view(self, request, pk):
        if not self.has_view_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        transfer = get_object_or_404(FileTransfer, pk=pk)
        response = StreamingHttpResponse(rejected_report_rows(transfer), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="file-transfer-{transfer.pk}-rejected.csv"'
        return response
