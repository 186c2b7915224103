"""Variables filled in for a contact: exactly the parameters the template calls for."""

from django.utils import translation

from channels_whatsapp.editor import TemplateEditorForm
from channels_whatsapp.rendering import binding_problems, fill, merged_bindings
from messaging.rendering import contact_values
from providers.whatsapp.templates import parameter_counts

IMAGE = {
    "name": "banner", "language": "tr", "category": "MARKETING", "header_type": "image",
    "header_media_url": "https://ex.com/kis.jpg", "body": "Merhaba {{1}}, kış indirimi başladı.",
    "body_1_example": "Ayşe", "body_1_source": "name", "body_1_default": "Müşterimiz", "stop_button": "on",
    "stop_button_text": "Durdur",
}  # fmt: skip


def test_an_image_template_from_the_editor_can_be_sent_with_its_sample_as_the_default():
    form = TemplateEditorForm(data=IMAGE)
    assert form.is_valid(), form.errors
    components, bindings = form.components(), form.bindings()
    assert binding_problems(components, bindings) == []
    filled = fill(components, bindings, contact_values(attributes={"name": "Can"}))
    assert filled.missing == [] and filled.text == "Merhaba Can, kış indirimi başladı."
    by_type = {c["type"]: c for c in filled.components if c["type"] != "button"}
    assert by_type["header"]["parameters"] == [{"type": "image", "image": {"link": "https://ex.com/kis.jpg"}}]
    quick = [c for c in filled.components if c["type"] == "button"]
    assert quick and quick[0]["sub_type"] == "quick_reply" and quick[0]["parameters"][0]["payload"] == "STOP_PROMO"
    counts = parameter_counts(components)
    assert len(by_type["body"]["parameters"]) == counts["body"] and counts["header"] == 1


def test_a_variable_bound_to_nothing_is_named_and_a_campaign_binding_fills_it():
    components = [{"type": "BODY", "text": "Merhaba {{1}}, {{2}}", "example": {"body_text": [["A", "B"]]}}]
    template = {"body": {"1": {"source": "name", "default": ""}}}
    with translation.override("en"):
        assert binding_problems(components, template) == [
            "the body's {{2}} is bound to nothing: choose a field or give a default"
        ]
    merged = merged_bindings(template, {"body": {"2": {"source": "city", "default": "bugün"}}})
    assert binding_problems(components, merged) == []
    with translation.override("en"):
        filled = fill(components, merged, contact_values(attributes={}))
    assert filled.missing == ["the body's {{1}} (name)"]  # no name, no default: the message is not sent


PARTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Sipariş {{1}}"},
    {"type": "BODY", "text": "Merhaba {{1}}"},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Takip", "url": "https://ex.com/{{1}}"}]},
]


def test_the_variables_are_named_in_turkish_under_turkish():
    with translation.override("tr"):
        unbound = " hiçbir şeye bağlı değil: bir alan seçin ya da varsayılan bir değer verin"
        assert binding_problems(PARTS, {}) == [
            "başlıktaki {{1}}" + unbound,
            "mesaj metnindeki {{1}}" + unbound,
            "1. düğmenin bağlantısındaki {{1}}" + unbound,
        ]
        filled = fill(PARTS, {"body": {"1": {"source": "name", "default": ""}}}, contact_values(attributes={}))
    assert filled.missing == ["başlıktaki {{1}}", "mesaj metnindeki {{1}} (name)", "1. düğmenin bağlantısındaki {{1}}"]
    with translation.override("en"):
        filled = fill(PARTS, {}, contact_values(attributes={}))
    assert filled.missing == ["the header's {{1}}", "the body's {{1}}", "the link of button 1 {{1}}"]
