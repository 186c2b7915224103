"""API keys in the panel (admins only): made with a name, scopes and an optional last day; the
key is shown once, on the page that follows; revoking cannot be undone."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.models import ApiKey, Scope
from api.services import api_key_create, api_keys_revoke


class ApiKeyCreateForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do; each API endpoint names the scope it needs."),
    )
    expires_on = forms.DateField(
        label=_("last day it works"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Europe/Istanbul. Leave empty for a key that does not expire."),
    )

    class Meta:
        model = ApiKey
        fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope_list", "created", "expiry_date", "last_used_at", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = ["name", "prefix", "scope_list", "created", "expiry_date", "last_used_at", "created_by"]
    fields = ["name", "prefix", "scope_list", "created", "created_by", "expiry_date", "last_used_at", "revoked"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or [])

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
            kwargs["fields"] = ["name", "scope_choices", "expires_on"]
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "scope_choices", "expires_on"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.readonly_fields, "revoked"] if obj.revoked else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        try:
            api_key, key = api_key_create(
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scope_choices"],
                expires_on=form.cleaned_data.get("expires_on"),
                created_by=request.user,
            )
        except ValidationError as exc:  # the form checked the same; a race with the clock only
            raise forms.ValidationError(exc.messages) from exc
        obj.pk = api_key.pk
        request._new_api_key = (api_key, key)

    def response_add(self, request, obj, post_url_continue=None):
        api_key, key = request._new_api_key
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("API key created"),
            "api_key": api_key,
            "key": key,
        }
        return TemplateResponse(request, "admin/api/key_created.html", context)

    def log_addition(self, request, obj, message):
        return super().log_addition(request, request._new_api_key[0], message)

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        count = api_keys_revoke(keys=queryset)
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
