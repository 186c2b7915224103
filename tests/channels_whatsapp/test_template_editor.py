"""The WhatsApp template editor (product.md "WhatsApp channel" → Templates): every breach of Meta's
limits on the field it concerns, in the marketer's words, and the components it builds in the
create-template format of providers.md §6.4."""

import re

import pytest
from django.utils import translation

from channels_whatsapp.editor import TemplateEditorForm
from providers.whatsapp.templates import parameter_counts
from tests.channels_whatsapp.helpers import ORDER, editor, valid

JARGON = re.compile(r"component|param|BODY|HEADER|FOOTER|BUTTONS|QUICK_REPLY|PHONE_NUMBER|POSITIONAL|header_handle")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- components as §6.4 has them -----------------------------------------------------------------


def test_a_full_template_builds_the_create_components_of_the_spec():
    assert valid(ORDER).components() == [
        {"type": "HEADER", "format": "TEXT", "text": "Siparişiniz {{1}}", "example": {"header_text": ["#123"]}},
        {
            "type": "BODY",
            "text": "Merhaba {{1}}, siparişiniz {{2}} tarihinde yola çıktı.",
            "example": {"body_text": [["Ayşe", "1 Mayıs"]]},
        },
        {"type": "FOOTER", "text": "Bildirimleri durdurmak için butona dokunun"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Takip et", "url": "https://ex.com/t/{{1}}", "example": ["ORDER123"]},
                {"type": "QUICK_REPLY", "text": "Durdur"},
            ],
        },
    ]


def test_a_body_alone_is_one_body_component_without_example():
    assert valid().components() == [{"type": "BODY", "text": "Merhaba, yaz indirimi başladı."}]


@pytest.mark.parametrize(
    ("changes", "header"),
    [
        ({"header_type": ""}, None),
        (
            {"header_type": "text", "header_text": "Yaz indirimi"},
            {"type": "HEADER", "format": "TEXT", "text": "Yaz indirimi"},
        ),
        (
            {
                "header_type": "text",
                "header_text": "{{1}} indirimi",
                "header_example": "Yaz",
                "header_default": "Büyük",
            },
            {"type": "HEADER", "format": "TEXT", "text": "{{1}} indirimi", "example": {"header_text": ["Yaz"]}},
        ),
        *(
            (
                {"header_type": kind, "header_media_url": f"https://cdn.example.com/sample.{ext}"},
                {
                    "type": "HEADER",
                    "format": kind.upper(),
                    "example": {"header_handle": [f"https://cdn.example.com/sample.{ext}"]},
                },
            )
            for kind, ext in [("image", "jpg"), ("video", "mp4"), ("document", "pdf")]
        ),
    ],
    ids=["none", "text", "text-variable", "image", "video", "document"],
)
def test_each_header_type_builds_its_header(changes, header):
    components = valid(**changes).components()
    assert [c for c in components if c["type"] == "HEADER"] == ([header] if header else [])


def test_a_media_header_takes_the_uploaded_samples_handle_when_given():
    form = valid(header_type="image", header_media_url="https://cdn.example.com/p.png")
    (header, _body) = form.components(header_handle="4::aW1hZ2UvcG5n:ARb")
    assert header["example"] == {"header_handle": ["4::aW1hZ2UvcG5n:ARb"]}
    assert form.bindings() == {"header": {"1": {"source": "", "default": "https://cdn.example.com/p.png"}}}


@pytest.mark.parametrize(
    ("changes", "buttons"),
    [
        (
            {"button_1_type": "url", "button_1_text": "Mağaza", "button_1_url": "https://ex.com/shop"},
            [{"type": "URL", "text": "Mağaza", "url": "https://ex.com/shop"}],
        ),
        (
            {
                "button_1_type": "url",
                "button_1_text": "Sipariş",
                "button_1_url": "https://ex.com/o/{{1}}",
                "button_1_example": "A17",
                "button_1_default": "son",
            },
            [{"type": "URL", "text": "Sipariş", "url": "https://ex.com/o/{{1}}", "example": ["A17"]}],
        ),
        (
            {"button_1_type": "phone", "button_1_text": "Ara", "button_1_phone": "+90 850 123 45 67"},
            [{"type": "PHONE_NUMBER", "text": "Ara", "phone_number": "+908501234567"}],
        ),
        ({"stop_button": "on", "stop_button_text": ""}, [{"type": "QUICK_REPLY", "text": "Kampanyaları durdur"}]),
        (
            {
                "stop_button": "on",
                "language": "en",
                "button_2_type": "phone",
                "button_2_text": "Call us",
                "button_2_phone": "+442071234567",
                "button_1_type": "url",
                "button_1_text": "Shop",
                "button_1_url": "https://ex.com/",
            },
            [
                {"type": "URL", "text": "Shop", "url": "https://ex.com/"},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+442071234567"},
                {"type": "QUICK_REPLY", "text": "Stop promotions"},
            ],
        ),
    ],
    ids=["url", "url-variable", "phone", "stop-in-turkish", "all-three"],
)
def test_each_button_kind_builds_its_button(changes, buttons):
    (block,) = [c for c in valid(**changes).components() if c["type"] == "BUTTONS"]
    assert block == {"type": "BUTTONS", "buttons": buttons}


def test_bindings_say_where_each_send_parameter_comes_from():
    form = valid(ORDER)
    assert form.bindings() == {
        "header": {"1": {"source": "order_no", "default": "hazır"}},
        "body": {"1": {"source": "name", "default": "Müşterimiz"}, "2": {"source": "", "default": "bugün"}},
        "button:0": {"1": {"source": "external_id", "default": "siparis"}},
    }
    # one binding per parameter a send must give, keyed as the wire layer counts them
    counts = {key: len(values) for key, values in form.bindings().items()}
    assert counts == parameter_counts(form.components())


def test_a_url_variable_after_a_call_button_is_bound_to_its_own_index():
    form = valid(
        button_1_type="phone",
        button_1_text="Ara",
        button_1_phone="+908501234567",
        button_2_type="url",
        button_2_text="Bak",
        button_2_url="https://ex.com/{{1}}",
        button_2_example="x1",
        button_2_default="x",
        stop_button="on",
    )
    assert form.bindings() == {"button:1": {"1": {"source": "", "default": "x"}}}
    assert parameter_counts(form.components()) == {"button:1": 1}


def test_rows_of_variables_the_text_does_not_use_are_ignored():
    form = valid(
        body="Merhaba {{1}}, hoş geldiniz.",
        body_1_example="Ayşe",
        body_1_default="dostum",
        body_5_example="unused",
        body_5_source="bad name",
        header_example="x",
    )
    assert form.bindings() == {"body": {"1": {"source": "", "default": "dostum"}}}


def test_the_stop_label_defaults_to_the_templates_language():
    assert TemplateEditorForm().fields["stop_button_text"].initial == "Kampanyaları durdur"
    assert TemplateEditorForm(initial={"language": "de"}).fields["stop_button_text"].initial == "Werbung stoppen"
    (block,) = [c for c in valid(stop_button="on", language="en_GB").components() if c["type"] == "BUTTONS"]
    assert block["buttons"] == [{"type": "QUICK_REPLY", "text": "Stop promotions"}]


def test_components_of_an_invalid_template_are_refused():
    with pytest.raises(ValueError):
        editor(body="").components()


# --- each breach on its field, in plain words ---------------------------------------------------

BREACHES = [
    ("name", {"name": "Yaz İndirimi 2025"}, "lowercase letters", "yaz_indirimi_2025"),
    ("name", {"name": "a" * 513}, "at most 512", "513"),
    ("category", {"category": "AUTHENTICATION"}, "WhatsApp Manager", "Utility"),
    ("header_text", {"header_type": "text", "header_text": ""}, "Write the header text", "no header"),
    ("header_text", {"header_type": "text", "header_text": "x" * 61}, "61 characters", "at most 60"),
    (
        "header_text",
        {"header_type": "text", "header_text": "{{1}} ve {{2}}", "header_example": "a"},
        "one variable",
        "{{1}}",
    ),
    ("header_text", {"header_type": "text", "header_text": "Merhaba {{2}}"}, "{{1}} is missing", "without gaps"),
    (
        "header_example",
        {"header_type": "text", "header_text": "Merhaba {{1}}", "header_default": "x"},
        "example",
        "reviewers",
    ),
    (
        "header_default",
        {"header_type": "text", "header_text": "Merhaba {{1}}", "header_example": "x"},
        "default",
        "no value",
    ),
    ("header_media_url", {"header_type": "video"}, "public link", "sample"),
    ("header_media_url", {"header_type": "image", "header_media_url": "https://ex.com/a.gif"}, "JPEG or PNG", ".gif"),
    ("header_media_url", {"header_type": "image", "header_media_url": "not a link"}, "valid URL", ""),
    ("body", {"body": ""}, "Write the message text", ""),
    ("body", {"body": "x" * 1025}, "1025 characters", "at most 1024"),
    (
        "body",
        {
            "body": "Merhaba {{1}} ve {{3}} olsun",
            "body_1_example": "a",
            "body_1_default": "a",
            "body_3_example": "c",
            "body_3_default": "c",
        },
        "{{2}} is missing",
        "from {{1}}",
    ),
    ("body", {"body": "{{1}}, merhaba", "body_1_example": "a", "body_1_default": "a"}, "begin or end", "add a word"),
    ("body", {"body": "Merhaba {{1}}", "body_1_example": "a", "body_1_default": "a"}, "begin or end", "reviewers"),
    (
        "body",
        {
            "body": "Merhaba {{1}} {{2}} olsun",
            "body_1_example": "a",
            "body_1_default": "a",
            "body_2_example": "b",
            "body_2_default": "b",
        },
        "between {{1}} and {{2}}",
        "side by side",
    ),
    ("body", {"body": "Merhaba {{first_name}} nasılsın"}, "Named variables", "{{first_name}}"),
    ("body", {"body": "Merhaba {{ 1 }} nasılsın"}, "Write variables as {{1}}", "“{{ 1 }}”"),
    (
        "body",
        {"body": "Merhaba {{1}} ve yine {{1}} dostum", "body_1_example": "a", "body_1_default": "a"},
        "appears 2 times",
        "once",
    ),
    ("body", {"body": "a " + " b ".join(f"{{{{{n}}}}}" for n in range(1, 12)) + " c"}, "At most 10 variables", ""),
    ("body_1_example", {"body": "Merhaba {{1}} dostum", "body_1_default": "a"}, "Give an example", "reviewers"),
    ("body_1_default", {"body": "Merhaba {{1}} dostum", "body_1_example": "a"}, "Give a default", "no value"),
    (
        "body_1_source",
        {"body": "Merhaba {{1}} dostum", "body_1_example": "a", "body_1_default": "a", "body_1_source": "first name"},
        "contact field",
        "profile attribute",
    ),
    ("footer", {"footer": "x" * 61}, "61 characters", "at most 60"),
    ("footer", {"footer": "Merhaba {{1}}"}, "footer may not hold variables", ""),
    ("button_1_text", {"button_1_type": "url", "button_1_url": "https://ex.com"}, "label", ""),
    (
        "button_1_text",
        {"button_1_type": "url", "button_1_url": "https://ex.com", "button_1_text": "x" * 26},
        "26 characters",
        "at most 25",
    ),
    ("button_1_url", {"button_1_type": "url", "button_1_text": "Bak"}, "web address", ""),
    (
        "button_1_url",
        {"button_1_type": "url", "button_1_text": "Bak", "button_1_url": "https://ex.com/{{1}}/x"},
        "one variable",
        "very end",
    ),
    ("button_1_url", {"button_1_type": "url", "button_1_text": "Bak", "button_1_url": "ex dot com"}, "https://", ""),
    (
        "button_1_url",
        {"button_1_type": "url", "button_1_text": "Bak", "button_1_url": "https://ex.com{{1}}"},
        "first slash",
        "",
    ),
    (
        "button_1_example",
        {
            "button_1_type": "url",
            "button_1_text": "Bak",
            "button_1_url": "https://ex.com/{{1}}",
            "button_1_default": "x",
        },
        "Give an example",
        "",
    ),
    (
        "button_1_phone",
        {"button_1_type": "phone", "button_1_text": "Ara", "button_1_phone": "0532 123 45 67"},
        "international form",
        "+908501234567",
    ),
    ("button_1_phone", {"button_1_type": "phone", "button_1_text": "Ara"}, "phone number", ""),
    (
        "button_2_type",
        {
            "button_1_type": "phone",
            "button_1_text": "Ara",
            "button_1_phone": "+908501234567",
            "button_2_type": "phone",
            "button_2_text": "Yine ara",
            "button_2_phone": "+908501234568",
        },
        "only one call button",
        "",
    ),
    (
        "button_2_text",
        {
            "button_1_type": "url",
            "button_1_text": "Bak",
            "button_1_url": "https://ex.com/a",
            "button_2_type": "url",
            "button_2_text": "bak",
            "button_2_url": "https://ex.com/b",
        },
        "its own label",
        "",
    ),
    ("stop_button_text", {"stop_button": "on", "stop_button_text": "x" * 26}, "26 characters", "at most 25"),
]


@pytest.mark.parametrize(
    ("field", "changes", "words", "more"), BREACHES, ids=[f"{b[0]}-{i}" for i, b in enumerate(BREACHES)]
)
def test_each_breach_is_on_its_field_in_plain_words(field, changes, words, more):
    form = editor(**changes)
    assert not form.is_valid()
    assert set(form.errors) == {field}, form.errors.as_data()
    (message, *_others) = form.errors[field]
    assert words in message and more in message
    assert not JARGON.search(message), message


def test_messages_are_in_turkish_for_a_turkish_user():
    with translation.override("tr"):
        gap = editor(body="Merhaba {{1}} ve {{3}} olsun", body_1_example="a", body_1_default="a")
        assert not gap.is_valid()
        assert gap.errors["body"] == ["Değişkenleri {{1}}'den başlayarak boşluksuz numaralandırın: {{2}} eksik."]
        no_example = editor(body="Merhaba {{1}} dostum", body_1_default="a")
        assert not no_example.is_valid()
        assert no_example.errors["body_1_example"] == [
            "Bir örnek verin: WhatsApp'ın inceleme ekibi mesajı onunla okur."
        ]


def test_a_limit_only_the_wire_layer_knows_still_lands_on_its_field(monkeypatch):
    # should Meta's rules in providers/ grow before the editor's, their words still reach the user
    found = ["the footer has 61 characters; at most 60 are allowed", "a template has at most 10 buttons"]
    monkeypatch.setattr("channels_whatsapp.editor.template_problems", lambda **kwargs: found)
    form = editor(footer="Bildirimler")
    assert not form.is_valid()
    assert form.errors["footer"] == ["The footer has 61 characters; at most 60 are allowed."]
    assert form.errors["button_1_type"] == ["A template has at most 10 buttons."]
