"""Targeting → Contact lists: each list's size, its members, and the contacts list's actions that
add the chosen contacts to a list or take them off one."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.forms import ContactListChoiceForm
from contacts.models import ContactList, ContactListMembership
from contacts.selectors import contact_display_name
from contacts.services import contact_list_change

MEMBERS_PER_PAGE = 50
LIST_PARAMETER = "list"  # ?list=<id> on the contacts list: the contacts on that list


def contacts_in_list_url(contact_list: ContactList) -> str:
    return reverse("admin:contacts_contact_changelist") + "?" + urlencode({LIST_PARAMETER: contact_list.pk})


class InListFilter(admin.SimpleListFilter):
    """The contacts on one list (the list page's "contacts in list" link lands here)."""

    title = _("list")
    parameter_name = LIST_PARAMETER
    shown = 100  # a filter of the first lists by name; the one chosen is always among them

    def lookups(self, request, model_admin):
        lists = list(ContactList.objects.order_by("name").values_list("pk", "name")[: self.shown])
        chosen = self.value()
        if chosen and chosen.isdigit() and all(str(pk) != chosen for pk, _name in lists):
            lists += list(ContactList.objects.filter(pk=int(chosen)).values_list("pk", "name"))
        return [(str(pk), name) for pk, name in lists]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(memberships__contact_list_id=int(value))


def _list_action(modeladmin, request, queryset, *, add: bool):
    """The intermediate page of "Add to list…" / "Remove from list…": choose the list, then apply."""
    form = ContactListChoiceForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        contact_list = form.cleaned_data["contact_list"]
        done = contact_list_change(contact_list=contact_list, contacts=queryset, add=add)
        if add:
            text = ngettext(
                "%(count)d contact added to the list “%(list)s”.",
                "%(count)d contacts added to the list “%(list)s”.",
                done,
            )
        else:
            text = ngettext(
                "%(count)d contact taken off the list “%(list)s”.",
                "%(count)d contacts taken off the list “%(list)s”.",
                done,
            )
        modeladmin.message_user(request, text % {"count": done, "list": contact_list.name}, messages.SUCCESS)
        return None  # back to the contacts list
    count = queryset.count()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Add contacts to a list") if add else _("Remove contacts from a list"),
        "opts": modeladmin.model._meta,
        "form": form,
        "count": count,
        "add": add,
        "action": "add_to_list" if add else "remove_from_list",
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "has_lists": ContactList.objects.exists(),
        "lists_url": reverse("admin:contacts_contactlist_add"),
    }
    return TemplateResponse(request, "admin/contacts/contact/list_action.html", context)


@admin.action(description=_("Add to list…"), permissions=["lists"])
def add_to_list(modeladmin, request, queryset):
    return _list_action(modeladmin, request, queryset, add=True)


@admin.action(description=_("Remove from list…"), permissions=["lists"])
def remove_from_list(modeladmin, request, queryset):
    return _list_action(modeladmin, request, queryset, add=False)


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    list_display = ["name", "size", "contacts_link", "created_at", "created_by"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "created_by"]
    exclude = ["contacts"]

    class Media:
        css = {"all": ["contacts/contacts.css"]}

    def get_queryset(self, request):
        # one GROUP BY for the page's lists, not a COUNT per row
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description=_("contacts"), ordering="member_count")
    def size(self, obj):
        return obj.member_count

    @admin.display(description=_("contacts in the list"))
    def contacts_link(self, obj):
        return format_html('<a href="{}">{}</a>', contacts_in_list_url(obj), _("Show in Contacts"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            members = (
                ContactListMembership.objects.filter(contact_list=obj)
                .select_related("contact")
                .order_by("-added_at", "-pk")
            )
            page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("members"))
            context["members_page"] = page
            context["members"] = [
                (membership, contact_display_name(membership.contact)) for membership in page.object_list
            ]
            context["contacts_in_list_url"] = contacts_in_list_url(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
