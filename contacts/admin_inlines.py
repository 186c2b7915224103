"""Inlines on the contact's page that show its newest rows only (consent history, messages): a
contact with 100,000 messages opens as fast as one with three. The timeline above them already
tells the story; an inline shows the newest `shown` rows and links to the whole list, filtered on
the contact, in its own (paginated) list page."""

from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext

SHOWN = 20
COUNT_CAP = 10_000  # as contacts.admin.CheapPaginator: counting stops there ("10,000+")


class LatestRowsFormSet(BaseInlineFormSet):
    """The parent's newest `shown` rows (in the inline's ordering), never all of them."""

    shown = SHOWN
    count_cap = COUNT_CAP
    all_rows_label = ""  # "All %(count)s …"
    all_rows_url = ""  # the list page of every row, filtered on the parent

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset()[: self.shown]
        return self._latest

    @cached_property
    def total(self) -> int:
        """How many rows there are, up to count_cap + 1: one query, made whatever the number (so the
        page costs the same queries however long the contact's history)."""
        return super().get_queryset().order_by()[: self.count_cap + 1].count()

    def more(self) -> dict | None:
        """The link to all the rows, when the inline does not show them all."""
        if not self.all_rows_url or self.total <= self.shown:
            return None
        return {
            "note": gettext("The newest %(shown)s are shown.") % {"shown": self.shown},
            "label": self.all_rows_label % {"count": self._count()},
            "url": self.all_rows_url,
        }

    def _count(self) -> str:
        if self.total > self.count_cap:
            return number_format(self.count_cap, force_grouping=True) + "+"
        return number_format(self.total, force_grouping=True)


class LatestRowsInline(admin.TabularInline):
    """A read-only inline of a contact's newest rows with 'All N …' linking to `changelist` (an
    admin URL name) filtered on the contact (?<fk_name>__id__exact=<pk>)."""

    formset = LatestRowsFormSet
    template = "admin/edit_inline/latest_rows.html"
    shown = SHOWN
    changelist = ""
    all_rows_label = ""  # lazy, with %(count)s
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.shown = self.shown
        formset.all_rows_label = str(self.all_rows_label)
        formset.all_rows_url = self._all_rows_url(obj) if obj is not None and obj.pk else ""
        return formset

    def _all_rows_url(self, obj) -> str:
        try:
            url = reverse(self.changelist)
        except NoReverseMatch:
            return ""
        return f"{url}?{self.fk_name}__id__exact={obj.pk}"
