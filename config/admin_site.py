"""The admin is the panel: product title, navigation grouped as the product is, live dashboard."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from config.dashboard import collect_figures, collect_panels

logger = logging.getLogger(__name__)

# (section label, [(app_label, model_name or "*"), ...]); models not listed keep their app group.
NAVIGATION = [
    (
        _("Targeting"),
        [
            ("contacts", "contact"),
            ("contacts", "contactlist"),
            ("messaging", "segment"),
            ("contacts", "filetransfer"),
            ("contacts", "*"),
        ],
    ),
    (_("Consent"), [("consent", "*")]),
    (_("Channels: SMS"), [("channels_sms", "*")]),
    (_("Channels: WhatsApp"), [("channels_whatsapp", "*")]),
    (_("Journeys"), [("journeys", "*"), ("messaging", "sendingpolicy")]),
    (_("Connectors"), [("providers", "*")]),
    (_("API and webhooks"), [("api", "*"), ("webhooks", "*")]),
    (_("Reports"), [("messaging", "message"), ("reports", "*")]),
    (_("Users and roles"), [("auth", "*")]),
    (_("Scheduled tasks"), [("django_celery_beat", "*")]),
]


class PanelAdminSite(admin.AdminSite):
    site_header = _("Consent-compliant messaging panel")
    site_title = _("Messaging panel")
    index_title = _("Dashboard")
    index_template = "admin/panel_index.html"

    def get_app_list(self, request, app_label=None):
        app_dict = self._build_app_dict(request, app_label)
        if app_label:
            return super().get_app_list(request, app_label)
        models = {
            (app, model["object_name"].lower()): model for app, entry in app_dict.items() for model in entry["models"]
        }
        taken: set[tuple[str, str]] = set()
        sections = []
        for label, rules in NAVIGATION:
            picked = []
            for app, model_name in rules:
                keys = [k for k in models if k[0] == app and (model_name == "*" or k[1] == model_name)]
                if model_name == "*":
                    keys.sort(key=lambda k: str(models[k]["name"]))
                for key in keys:
                    if key not in taken:
                        taken.add(key)
                        picked.append(models[key])
            if picked:
                first_app = app_dict[rules[0][0]] if rules[0][0] in app_dict else None
                sections.append(
                    {
                        "name": label,
                        "app_label": rules[0][0],
                        "app_url": first_app["app_url"] if first_app else "",
                        "has_module_perms": True,
                        "models": picked,
                    }
                )
        for app, entry in sorted(app_dict.items()):
            rest = [m for m in entry["models"] if (app, m["object_name"].lower()) not in taken]
            if rest:
                sections.append({**entry, "models": rest})
        return sections

    def get_urls(self):
        return [
            path("dashboard.json", self.admin_view(self.dashboard_json), name="dashboard_json")
        ] + super().get_urls()

    def figures(self, request):
        return collect_figures([import_string(p) for p in settings.DASHBOARD_FIGURES], request=request)

    def panels(self, request):
        """Each block with its HTML (its template is the app's: the page only places them)."""
        rendered = []
        for panel in collect_panels([import_string(p) for p in settings.DASHBOARD_PANELS], request=request):
            try:
                rendered.append((panel, render_to_string(panel.template, {**panel.context, "panel": panel}, request)))
            except Exception:  # a broken block must not take the dashboard down
                logger.exception("dashboard panel %s failed to render", panel.key)
        return rendered

    def index(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "figures": self.figures(request), "panels": self.panels(request)}
        return super().index(request, extra_context)

    def dashboard_json(self, request):
        return JsonResponse({"figures": [f.as_dict() for f in self.figures(request)]})
