from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from providers.base import Channel, MessagingConnector
from providers.models import ProviderAccount
from providers.registry import connector_choices, connector_class
from providers.services import account_check, account_install, account_validate


class ConnectorPickForm(forms.Form):
    connector = forms.ChoiceField(
        label=_("Connector"),
        choices=connector_choices,
        error_messages={
            "invalid_choice": _("There is no connector called “%(value)s”: pick one from the list."),
            "required": _("Pick the connector to install."),
        },
    )


def account_form_for(connector: str, *, editing: bool) -> type[forms.ModelForm]:
    """The admin form: the account's own fields plus the connector's settings form."""
    cls = connector_class(connector)
    extra = {}
    for field_name, field in cls.config_form.base_fields.items():
        field = field.__class__(**_field_kwargs(field))
        if field_name in cls.secret_fields:
            field.widget = forms.PasswordInput(render_value=False)
            if editing:
                field.required = False
                field.help_text = _("Stored encrypted. Leave empty to keep the current value.")
        extra[field_name] = field

    class AccountForm(forms.ModelForm):
        class Meta:
            model = ProviderAccount
            fields = ["name", "is_active"]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.instance.pk:
                for key, value in self.instance.settings.items():
                    if key in self.fields:
                        self.fields[key].initial = value

        def clean(self):
            cleaned = super().clean()
            values = {k: cleaned.get(k) for k in extra}
            try:
                account_validate(
                    connector=connector, values=values, existing=self.instance if self.instance.pk else None
                )
            except ValidationError as exc:
                for field_name, errors in exc.message_dict.items():
                    self.add_error(field_name if field_name in self.fields else None, errors)
            return cleaned

    AccountForm.base_fields.update(extra)
    AccountForm.declared_fields.update(extra)
    AccountForm.connector_fields = list(extra)
    return AccountForm


def _field_kwargs(field: forms.Field) -> dict:
    kwargs = {"required": field.required, "label": field.label, "help_text": field.help_text, "initial": field.initial}
    for attr in ("max_length", "min_length", "choices", "min_value", "max_value", "assume_scheme"):
        if hasattr(field, attr) and getattr(field, attr) is not None:
            kwargs[attr] = getattr(field, attr)
    return kwargs


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "connector", "channel", "is_active", "last_check_ok", "last_check_at"]
    list_filter = ["channel", "connector", "is_active", "last_check_ok"]
    search_fields = ["name"]
    readonly_fields = [
        "connector",
        "channel",
        "last_check_at",
        "last_check_ok",
        "last_check_message",
        "callback_url",
        "send_test",
    ]
    actions = ["test_connection"]

    def _connector(self, request, obj):
        return obj.connector if obj else request.GET.get("connector") or request.POST.get("_connector")

    # Every field of these forms may be a credential: error reports show none of them.
    @method_decorator(sensitive_post_parameters())
    def add_view(self, request, form_url="", extra_context=None):
        connector = request.GET.get("connector") or request.POST.get("_connector")
        pick = ConnectorPickForm({"connector": connector} if connector else None)
        if not connector or not pick.is_valid():
            # no type chosen yet, or one that does not exist: the choice again, with the reason
            context = {
                **self.admin_site.each_context(request),
                "form": pick,
                "opts": self.model._meta,
                "title": _("Install a connector"),
            }
            status = 400 if connector else 200
            return TemplateResponse(request, "admin/providers/pick_connector.html", context, status=status)
        extra_context = {**(extra_context or {}), "connector": connector}
        return super().add_view(request, form_url, extra_context)

    @method_decorator(sensitive_post_parameters())
    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        if account is not None and self.has_change_permission(request, account):
            account.remember_base_url(request)  # the callback URL shown is the address in use
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        own = [
            path(
                "<int:account_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="providers_provideraccount_test",
            )
        ]
        return own + super().get_urls()

    def test_connection_view(self, request, account_id):
        """The account page's "Test connection" button (POST): the verdict as a message, kept on
        the account with its time."""
        account = self.get_object(request, str(account_id))
        if account is None:
            raise Http404
        if request.method != "POST" or not self.has_change_permission(request, account):
            raise PermissionDenied
        result = account_check(account_id=account.pk)
        level = messages.SUCCESS if result.ok else messages.ERROR
        self.message_user(request, f"{account.name}: {result.message}", level)
        return HttpResponseRedirect(reverse("admin:providers_provideraccount_change", args=[account.pk]))

    def get_form(self, request, obj=None, change=False, **kwargs):
        return account_form_for(self._connector(request, obj), editing=obj is not None)

    def get_fieldsets(self, request, obj=None):
        form = self.get_form(request, obj)
        fieldsets = [
            (None, {"fields": ["name", "is_active"]}),
            (_("Connector settings"), {"fields": form.connector_fields}),
        ]
        if obj:
            fieldsets.insert(
                1,
                (
                    _("Connector"),
                    {
                        "fields": [
                            "connector",
                            "channel",
                            "last_check_ok",
                            "last_check_at",
                            "last_check_message",
                            "callback_url",
                            "send_test",
                        ]
                    },
                ),
            )
        return fieldsets

    @admin.display(description=_("Callback URL"))
    def callback_url(self, obj):
        connector = obj.connector_instance() if obj else None
        if not isinstance(connector, MessagingConnector) or not connector.has_webhook:
            return "-"
        shown = format_html(
            '<code id="callback-url">{}</code><div class="help">{}</div>',
            obj.webhook_url,
            _("Paste this address into the provider's dashboard so delivery reports and replies come back."),
        )
        if token := getattr(connector, "verify_token", ""):  # WhatsApp: Meta's subscription handshake
            shown += format_html(
                '<div>{}: <code id="verify-token">{}</code></div><div class="help">{}</div>',
                _("Verify token"),
                token,
                _("Paste it beside the callback URL in Meta's app dashboard (Webhooks)."),
            )
        return shown

    @admin.display(description=_("Test"))
    def send_test(self, obj):
        if obj and obj.channel == Channel.WHATSAPP:
            try:
                url = reverse("admin:channels_whatsapp_whatsapptemplate_changelist")
            except NoReverseMatch:
                return "-"
            return format_html(
                '<a class="button" href="{}?account__id__exact={}">{}</a>',
                url,
                obj.pk,
                _("Templates (and Sync templates)"),
            )
        if not obj or obj.channel != Channel.SMS:
            return "-"
        return format_html(
            '<a class="button" href="{}">{}</a>', reverse("sms-test-send", args=[obj.pk]), _("Send test SMS")
        )

    @method_decorator(sensitive_variables())
    def save_model(self, request, obj, form, change):
        values = {k: form.cleaned_data.get(k) for k in form.connector_fields}
        saved = account_install(
            name=form.cleaned_data["name"],
            connector=self._connector(request, obj if change else None),
            values=values,
            acting_user=request.user,
            is_active=form.cleaned_data["is_active"],
            account=obj if change else None,
        )
        obj.pk = saved.pk
        saved.remember_base_url(request)

    @admin.action(description=_("Test connection"), permissions=["change"])
    def test_connection(self, request, queryset):
        for account in queryset:
            result = account_check(account_id=account.pk)
            self.message_user(
                request, f"{account.name}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
            )


from providers import admin_inbox  # noqa: E402, F401  (Received webhooks: registered there)
