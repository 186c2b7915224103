"""The Contacts page's import (django-import-export): a file with some bad rows still imports its
good rows, and the bad ones are listed in plain words with their line in the file, before the
confirmation and again on the page that follows it."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from import_export.results import RowResult
from import_export.signals import post_import

IMPORTED = (RowResult.IMPORT_TYPE_NEW, RowResult.IMPORT_TYPE_UPDATE)


@dataclass(frozen=True)
class RejectedRow:
    line: int  # in the file, its header being line 1
    reason: str


def rejected_rows(result) -> list[RejectedRow]:
    rows = []
    for invalid in result.invalid_rows:
        reasons = []
        for field, errors in invalid.field_specific_errors.items():
            reasons += [_("column “%(column)s”: %(error)s") % {"column": field, "error": error} for error in errors]
        reasons += [str(error) for error in invalid.non_field_specific_errors]
        rows.append(RejectedRow(line=invalid.number + 1, reason="; ".join(reasons)))
    return rows


class GoodRowsImportMixin:
    """For an ImportExportMixin admin: a preview with invalid rows still offers to confirm the valid
    ones (the resource leaves the invalid rows out), and says which rows stay out and why."""

    import_template_name = "admin/contacts/contact/import.html"
    import_done_template_name = "admin/contacts/contact/import_done.html"

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if result is None or result.has_errors():
            return response
        if result.has_validation_errors():
            context["rejected_rows"] = rejected_rows(result)
            context["good_rows"] = [row for row in result.valid_rows() if row.import_type in IMPORTED]
            if context["good_rows"] and not context.get("confirm_form"):
                context["confirm_form"] = self.create_confirm_form(request, import_form=context["form"])
        return response

    def process_result(self, result, request):
        if not result.has_validation_errors():
            return super().process_result(result, request)
        self.generate_log_entries(result, request)
        post_import.send(sender=None, model=self.model)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import finished"),
            "opts": self.model._meta,
            "new": result.totals[RowResult.IMPORT_TYPE_NEW],
            "updated": result.totals[RowResult.IMPORT_TYPE_UPDATE],
            "skipped": result.totals[RowResult.IMPORT_TYPE_SKIP],
            "rejected_rows": rejected_rows(result),
        }
        return TemplateResponse(request, self.import_done_template_name, context)
