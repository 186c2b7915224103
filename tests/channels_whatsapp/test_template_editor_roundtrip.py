"""The editor shows what it built (initial_from round-trips any valid template), reads what Meta
lists, and what it builds is what the Cloud API takes: created PENDING, then sendable with the
bindings' defaults (the fake Cloud API over real HTTP, providers.md §6.4, §6.9)."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from channels_whatsapp.editor import TemplateEditorForm
from providers.base import OutboundMessage
from providers.whatsapp import WhatsAppConnector
from providers.whatsapp.templates import STOP_PROMO_PAYLOAD, parameter_counts, send_components
from tests.channels_whatsapp.helpers import ORDER, valid

LETTERS = "abcçdefgğhıijklmnoöprsştuüvyzABCÇDEĞIİÖŞÜ0123456789"
word = st.text(alphabet=LETTERS, min_size=1, max_size=8)
value = st.text(alphabet=LETTERS + "#-", min_size=1, max_size=20)
source = st.sampled_from(["", "phone", "email", "external_id", "whatsapp_number", "name", "city", "loyalty.tier"])


def text_with_variables(draw, count: int, *, words_around: bool = True) -> str:
    order = draw(st.permutations(list(range(1, count + 1))))
    parts = [draw(word)] if words_around else []
    for n in order:
        parts += [f"{{{{{n}}}}}", draw(word)]
    return " ".join(parts)


def variable_rows(draw, slot: str) -> dict:
    return {f"{slot}_example": draw(value), f"{slot}_source": draw(source), f"{slot}_default": draw(value)}


@st.composite
def templates(draw) -> dict:
    """Valid editor input: every limit kept, every variable with its rows."""
    count = draw(st.integers(0, 10))
    data = {
        "name": draw(st.from_regex(r"[a-z0-9_]{1,40}", fullmatch=True)),
        "language": draw(st.sampled_from(["tr", "en", "en_US", "de", "ar"])),
        "category": draw(st.sampled_from(["MARKETING", "UTILITY"])),
        "body": text_with_variables(draw, count),
        "footer": draw(st.one_of(st.just(""), word)),
    }
    for n in range(1, count + 1):
        data.update(variable_rows(draw, f"body_{n}"))
    header = draw(st.sampled_from(["", "text", "text-variable", "image", "video", "document"]))
    if header.startswith("text"):
        data.update(header_type="text", header_text=draw(word) + (" {{1}}" if header == "text-variable" else ""))
        if header == "text-variable":
            data.update(variable_rows(draw, "header"))
    elif header:
        data.update(header_type=header, header_media_url=f"https://cdn.example.com/{draw(word)}")
    kinds = draw(st.sampled_from([("", ""), ("url", ""), ("url", "url"), ("phone", "url"), ("url", "phone")]))
    for number, kind in enumerate(kinds, start=1):
        slot = f"button_{number}"
        if kind:
            data.update({f"{slot}_type": kind, f"{slot}_text": f"{draw(word)} {number}"})
        if kind == "phone":
            data[f"{slot}_phone"] = "+90" + draw(st.from_regex(r"[1-9][0-9]{9}", fullmatch=True))
        elif kind == "url":
            variable = draw(st.booleans())
            data[f"{slot}_url"] = f"https://ex.com/{draw(word)}/" + ("{{1}}" if variable else "")
            if variable:
                data.update(variable_rows(draw, slot))
    if draw(st.booleans()):
        data.update(stop_button="on", stop_button_text=draw(st.sampled_from(["", "Durdur", "Stop"])))
    return data


@settings(max_examples=80, deadline=None)
@given(templates())
def test_initial_from_round_trips_every_valid_template(data):
    form = valid(data)
    plain = {key: form.cleaned_data[key] for key in ("name", "language", "category")}
    initial = TemplateEditorForm.initial_from(form.components(), form.bindings(), **plain)
    again = TemplateEditorForm(data=initial)
    assert again.is_valid(), again.errors.as_data()
    assert again.components() == form.components()
    assert again.bindings() == form.bindings()
    assert {key: len(v) for key, v in form.bindings().items()} == parameter_counts(form.components())


def test_initial_from_reads_a_template_as_meta_lists_it():
    # the spec's example (§6.4): the quick reply first, so the website button is button 1
    listed = [
        {"type": "HEADER", "format": "TEXT", "text": "Siparişiniz {{1}}", "example": {"header_text": ["#123"]}},
        {
            "type": "BODY",
            "text": "Merhaba {{1}}, siparişiniz {{2}} yolda.",
            "example": {"body_text": [["Ayşe", "1 Mayıs"]]},
        },
        {"type": "FOOTER", "text": "Bildirimler"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Durdur"},
                {"type": "URL", "text": "Takip et", "url": "https://ex.com/t/{{1}}", "example": ["ORDER123"]},
                {"type": "COPY_CODE", "example": "250FF"},
            ],
        },
    ]
    bindings = {
        "body": {"1": {"source": "name", "default": "Müşterimiz"}},
        "button:1": {"1": {"source": "external_id"}},
    }
    initial = TemplateEditorForm.initial_from(listed, bindings, name="order_update")
    assert initial["name"] == "order_update"
    assert (initial["header_type"], initial["header_text"], initial["header_example"]) == (
        "text",
        "Siparişiniz {{1}}",
        "#123",
    )
    assert (initial["body_1_example"], initial["body_1_source"], initial["body_1_default"]) == (
        "Ayşe",
        "name",
        "Müşterimiz",
    )
    assert (initial["body_2_example"], initial.get("body_2_source")) == ("1 Mayıs", None)
    assert initial["stop_button"] is True and initial["stop_button_text"] == "Durdur"
    assert (initial["button_1_type"], initial["button_1_url"], initial["button_1_example"]) == (
        "url",
        "https://ex.com/t/{{1}}",
        "ORDER123",
    )
    assert initial["button_1_source"] == "external_id" and initial["button_2_type"] == ""
    media = [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.example/x.jpg"]}}]
    assert TemplateEditorForm.initial_from(media, None)["header_media_url"] == "https://scontent.example/x.jpg"


def connector_for(fake) -> WhatsAppConnector:
    settings = {
        "base_url": fake.url,
        "api_version": "v23.0",
        "waba_id": fake.waba_id,
        "phone_number_id": fake.phone_number_id,
        "app_id": fake.app_id,
    }
    return WhatsAppConnector(
        settings=settings, credentials={"access_token": fake.access_token, "app_secret": fake.app_secret}
    )


def send_from_defaults(components: list[dict], bindings: dict) -> tuple:
    """What a sender gives Meta for a contact with no values: every binding's default, the stop payload."""
    header = bindings.get("header", {}).get("1", {}).get("default")
    media = next((c["format"].lower() for c in components if c["type"] == "HEADER" and c["format"] != "TEXT"), None)
    buttons = [
        ("url", int(key.split(":")[1]), b["1"]["default"]) for key, b in bindings.items() if key.startswith("button:")
    ]
    all_buttons = next((c["buttons"] for c in components if c["type"] == "BUTTONS"), [])
    buttons += [("quick_reply", i, STOP_PROMO_PAYLOAD) for i, b in enumerate(all_buttons) if b["type"] == "QUICK_REPLY"]
    body = [bindings["body"][str(n)]["default"] for n in range(1, len(bindings.get("body", {})) + 1)]
    return send_components(
        header={media: header} if media else ([header] if header else None), body=body, buttons=sorted(buttons)
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"  # a JPEG by its signature
IMAGE = {
    **ORDER,
    "name": "summer_image",
    "category": "MARKETING",
    "header_type": "image",
    "header_media_url": "https://cdn.example.com/yaz.jpg",
    "button_2_type": "phone",
    "button_2_text": "Bizi arayın",
    "button_2_phone": "+908501234567",
}


def test_the_built_template_is_created_pending_at_meta_and_sends_with_the_bindings_defaults(fake):
    connector = connector_for(fake)
    for data in (ORDER, IMAGE):
        form = valid(data)
        # Meta takes a media header only with the handle of its uploaded sample (the link is for sends)
        handle = (
            connector.upload_sample(data=JPEG, file_type="image/jpeg", file_name="yaz.jpg") if data is IMAGE else ""
        )
        created = connector.template_create(
            name=form.cleaned_data["name"],
            language="tr",
            category=form.cleaned_data["category"],
            components=form.components(header_handle=handle),
        )
        assert created.status == "PENDING" and created.id
        assert fake.templates[created.id]["components"] == form.components(header_handle=handle)
        posted = json.loads(next(r["body"] for r in reversed(fake.requests) if r["method"] == "POST"))
        assert posted["parameter_format"] == "POSITIONAL" and posted["components"] == form.components(
            header_handle=handle
        )
        fake.approve(created.id)
        message = OutboundMessage(
            key=f"msg-{created.id}",
            to="+905321234567",
            text="",
            sender="",
            commercial=True,
            template_name=form.cleaned_data["name"],
            template_language="tr",
            template_components=send_from_defaults(form.components(), form.bindings()),
        )
        result = connector.send(message)
        assert result.provider_id.startswith("wamid."), result  # not refused with 132000 (parameter count)
