"""The İYS connector (Connectors → Data Security → İleti Yönetim Sistemi): its install form,
registered in providers.registry as 'iys', and its connection test in plain words."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consent.iys.client import IysClient, IysError
from providers.base import Channel, CheckResult, Connector

BASE_URLS = {"production": "https://api.iys.org.tr", "sandbox": "https://api.sandbox.iys.org.tr"}


NOT_AUTHORISED = _(
    "Brand %(brand)s is not among the brands this İYS user may act for (%(codes)s). In the İYS panel the brand "
    "must authorise this solution partner (message, call and email permissions) and enable reconciliation "
    "(Mutabakat Yönetimi)."
)


class IysForm(forms.Form):
    brand_code = forms.IntegerField(label=_("Brand Code"), min_value=1)
    iys_code = forms.IntegerField(label=_("IYS Code"), min_value=1)
    username = forms.CharField(label=_("API username"), max_length=200)
    password = forms.CharField(label=_("API password"), max_length=200)
    environment = forms.ChoiceField(
        label=_("Environment"),
        initial="production",
        choices=[
            ("production", _("Production (api.iys.org.tr)")),
            ("sandbox", _("Sandbox (api.sandbox.iys.org.tr)")),
            ("custom", _("Custom base URL")),
        ],
    )
    base_url = forms.URLField(label=_("Custom base URL"), required=False, assume_scheme="https")
    mode = forms.ChoiceField(
        label=_("Mode"),
        initial="sync",
        choices=[
            ("sync", _("Sync: the panel's consent changes go to İYS; İYS's confirmations and changes come back")),
            ("integrator", _("Integrator: İYS leads; only İYS-confirmed consent counts for sending")),
        ],
    )
    backfill_hour = forms.IntegerField(
        label=_("Nightly backfill hour (Istanbul)"), min_value=0, max_value=23, initial=2
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("environment") == "custom" and not cleaned.get("base_url"):
            raise ValidationError({"base_url": _("Give the base URL for a custom environment.")})
        return cleaned


class IysConnector(Connector):
    name = "iys"
    label = _("İleti Yönetim Sistemi (İYS)")
    channel = Channel.IYS
    config_form = IysForm
    secret_fields = ("password",)

    def base_url(self) -> str:
        env = self.settings.get("environment", "production")
        return self.settings.get("base_url") if env == "custom" else BASE_URLS[env]

    def client(self) -> IysClient:
        return IysClient(
            base_url=self.base_url(),
            username=self.settings["username"],
            password=self.credentials.get("password", ""),
            iys_code=self.settings["iys_code"],
            brand_code=self.settings["brand_code"],
        )

    def test_connection(self) -> CheckResult:
        brand = int(self.settings["brand_code"])
        try:
            brands = self.client().brands()
        except IysError as exc:
            return CheckResult(ok=False, message=str(exc))
        codes = {int(b.get("brandCode", 0)) for b in brands}
        if brand not in codes:
            listed = ", ".join(map(str, sorted(codes))) or "none"
            return CheckResult(ok=False, message=str(NOT_AUTHORISED % {"brand": brand, "codes": listed}))
        return CheckResult(
            ok=True, message=str(_("Connected to İYS; brand %(brand)s is authorised.") % {"brand": brand})
        )
