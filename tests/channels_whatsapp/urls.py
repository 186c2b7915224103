"""The panel's URLs plus a page that shows the WhatsApp template editor in the admin's frame, until
the template model's own admin page uses it (select with @pytest.mark.urls)."""

import json
from pathlib import Path

from django.contrib import admin
from django.contrib.admin.helpers import AdminForm
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from channels_whatsapp.editor import TemplateEditorForm
from config.urls import urlpatterns as panel_urlpatterns

PAGE = Path(__file__).with_name("editor_page.html")


def template_editor(request):
    """GET: an empty editor; POST: the editor with its checks, and what would go to Meta when valid."""
    form = TemplateEditorForm(request.POST or None)
    submitted = {}
    if form.is_bound and form.is_valid():
        submitted = {"components": form.components(), "bindings": form.bindings()}
    context = {
        **admin.site.each_context(request),
        "title": "WhatsApp template",
        "form": form,
        "adminform": AdminForm(form, form.fieldsets, {}),
        "submitted": json.dumps(submitted, ensure_ascii=False, indent=2) if submitted else "",
    }
    page = engines["django"].from_string(PAGE.read_text(encoding="utf-8"))
    return HttpResponse(page.render(context, request))


urlpatterns = [
    path("admin/whatsapp-template-editor/", admin.site.admin_view(template_editor), name="whatsapp-template-editor"),
    *panel_urlpatterns,
]
