"""Editor input shared by the template editor's tests."""

from channels_whatsapp.editor import TemplateEditorForm
from providers.whatsapp.templates import template_problems

ORDER = {
    "name": "order_update",
    "language": "tr",
    "category": "UTILITY",
    "header_type": "text",
    "header_text": "Siparişiniz {{1}}",
    "header_example": "#123",
    "header_source": "order_no",
    "header_default": "hazır",
    "body": "Merhaba {{1}}, siparişiniz {{2}} tarihinde yola çıktı.",
    "body_1_example": "Ayşe",
    "body_1_source": "name",
    "body_1_default": "Müşterimiz",
    "body_2_example": "1 Mayıs",
    "body_2_default": "bugün",
    "footer": "Bildirimleri durdurmak için butona dokunun",
    "button_1_type": "url",
    "button_1_text": "Takip et",
    "button_1_url": "https://ex.com/t/{{1}}",
    "button_1_example": "ORDER123",
    "button_1_source": "external_id",
    "button_1_default": "siparis",
    "stop_button": "on",
    "stop_button_text": "Durdur",
}
MINIMAL = {"name": "hello", "language": "tr", "category": "MARKETING", "body": "Merhaba, yaz indirimi başladı."}


def editor(base=MINIMAL, **changes) -> TemplateEditorForm:
    data = {**base, **changes}
    return TemplateEditorForm(data={k: v for k, v in data.items() if v is not None})


def valid(base=MINIMAL, **changes) -> TemplateEditorForm:
    form = editor(base, **changes)
    assert form.is_valid(), form.errors.as_data()
    problems = template_problems(
        name=form["name"].value(), category=form["category"].value(), components=form.components()
    )
    assert problems == []  # what the wire layer checks before submitting agrees
    return form
