"""The Resumable Upload API client (providers/whatsapp/uploads.py) against the fake Cloud API over
real HTTP: a template sample's two steps and its handle, the token and app id refused in words, an
upload cut mid-way resumed from what Meta kept, and a media template created only with a handle."""

import struct
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation

from providers.whatsapp import WhatsAppConnector, WhatsAppForm
from providers.whatsapp.errors import WhatsAppSendError
from providers.whatsapp.uploads import sample_type, session_offset, session_send, session_start


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def png() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0"))
        + chunk(b"IEND", b"")
    )


def connector_for(fake, **settings) -> WhatsAppConnector:
    values = {
        "base_url": fake.url,
        "api_version": "v23.0",
        "waba_id": fake.waba_id,
        "phone_number_id": fake.phone_number_id,
        "app_id": fake.app_id,
        **settings,
    }
    token = values.pop("access_token", fake.access_token)
    return WhatsAppConnector(settings=values, credentials={"access_token": token, "app_secret": fake.app_secret})


def upload_requests(fake) -> list[dict]:
    return [r for r in fake.requests if "/uploads" in r["path"] or "/upload:" in r["path"]]


def test_a_sample_goes_up_in_two_steps_and_its_handle_comes_back(fake):
    data = png()
    handle = connector_for(fake).upload_sample(data=data, file_type="image/png", file_name="yaz kampanyası.png")
    assert handle.startswith("4::")
    assert fake.uploaded(handle)["data"] == data and fake.uploaded(handle)["file_type"] == "image/png"
    start, send = upload_requests(fake)
    url = urlsplit(start["path"])
    assert start["method"] == "POST" and url.path == f"/v23.0/{fake.app_id}/uploads"
    assert parse_qs(url.query) == {"file_name": ["yaz_kampanyası.png"], "file_length": [str(len(data))],
                                   "file_type": ["image/png"]}  # fmt: skip
    assert start["headers"]["Authorization"] == f"Bearer {fake.access_token}"  # never in the URL
    [session_id] = fake.uploads
    assert send["method"] == "POST" and send["path"] == f"/v23.0/{session_id}"  # its ?sig= kept verbatim
    assert send["headers"]["Authorization"] == f"OAuth {fake.access_token}" and send["headers"]["file_offset"] == "0"
    assert send["body"] == data


def test_a_wrong_token_is_said_in_words_and_nothing_is_uploaded(fake):
    with pytest.raises(WhatsAppSendError) as refused:
        connector_for(fake, access_token="revoked").upload_sample(data=png(), file_type="image/png", file_name="a.png")
    assert "Meta refused the access token" in str(refused.value) and "uploading the template's sample" in str(
        refused.value
    )
    assert refused.value.permanent and refused.value.account_problem and not refused.value.maybe_sent
    assert fake.uploads == {}


def test_an_app_id_meta_does_not_know_is_said_in_words(fake):
    with pytest.raises(WhatsAppSendError) as refused:
        connector_for(fake, app_id="999").upload_sample(data=png(), file_type="image/png", file_name="a.png")
    assert "Meta does not know the app id 999" in str(refused.value) and refused.value.account_problem


def test_without_an_app_id_or_with_a_type_meta_does_not_take_nothing_is_called(fake):
    with pytest.raises(WhatsAppSendError, match="add the Meta app id on the WhatsApp account"):
        connector_for(fake, app_id="").upload_sample(data=png(), file_type="image/png", file_name="a.png")
    with pytest.raises(WhatsAppSendError, match="not image/gif"):
        connector_for(fake).upload_sample(data=b"GIF89a", file_type="image/gif", file_name="a.gif")
    assert fake.requests == []


def test_an_upload_cut_mid_way_is_resumed_from_the_offset_meta_reports(fake):
    data = b"%PDF-1.4\n" + bytes(range(256)) * 40
    fake.cut_upload_after = 1000  # Meta keeps 1,000 bytes, then the connection drops without an answer
    handle = connector_for(fake).upload_sample(data=data, file_type="application/pdf", file_name="katalog.pdf")
    assert fake.uploaded(handle)["data"] == data
    first, asked, rest = upload_requests(fake)[1:]
    assert (first["method"], first["headers"]["file_offset"], len(first["body"])) == ("POST", "0", len(data))
    assert asked["method"] == "GET" and asked["path"] == first["path"]
    assert asked["headers"]["Authorization"] == f"OAuth {fake.access_token}"
    assert rest["headers"]["file_offset"] == "1000" and rest["body"] == data[1000:]


def test_the_get_on_a_session_says_how_many_bytes_meta_holds(fake):
    graph = connector_for(fake).graph
    data = png()
    session_id = session_start(
        graph, app_id=fake.app_id, file_name="a.png", file_length=len(data), file_type="image/png"
    )
    assert session_offset(graph, session_id=session_id) == 0
    assert session_send(graph, session_id=session_id, data=data[:20], offset=0) == {"id": session_id, "file_offset": 20}
    assert session_offset(graph, session_id=session_id) == 20
    answer = session_send(graph, session_id=session_id, data=data[20:], offset=20)
    assert fake.uploaded(answer["h"])["data"] == data


def test_a_media_template_is_created_only_with_a_handle_the_upload_gave(fake):
    connector = connector_for(fake)
    body = {"type": "BODY", "text": "Yaz indirimi başladı."}

    def image_header(sample: str) -> list[dict]:
        return [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [sample]}}, body]

    for sample in ("https://cdn.example.com/yaz.png", "4::aW1hZ2UvcG5n:ARmadeup"):
        with pytest.raises(WhatsAppSendError) as refused:
            connector.template_create(name="yaz", language="tr", category="MARKETING", components=image_header(sample))
        assert refused.value.meta_code == 100 and "Meta found a parameter not valid" in str(refused.value)
    pdf = connector.upload_sample(data=b"%PDF-1.4\n%%EOF", file_type="application/pdf", file_name="a.pdf")
    with pytest.raises(WhatsAppSendError, match="IMAGE header's sample cannot be application/pdf"):
        connector.template_create(name="yaz", language="tr", category="MARKETING", components=image_header(pdf))
    handle = connector.upload_sample(data=png(), file_type="image/png", file_name="yaz.png")
    created = connector.template_create(
        name="yaz", language="tr", category="MARKETING", components=image_header(handle)
    )
    assert created.status == "PENDING" and fake.templates[created.id]["components"][0]["example"] == {
        "header_handle": [handle]
    }


def test_a_samples_type_is_read_from_its_bytes():
    assert sample_type(png()) == "image/png"
    assert sample_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sample_type(b"%PDF-1.7\n") == "application/pdf"
    assert sample_type(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00") == "video/mp4"
    for other in (b"GIF89a", b"\x00\x00\x00\x14ftyp3gp4", b"\x00\x00\x00\x14ftypqt  ", b"<html>", b""):
        assert sample_type(other) == ""


def test_the_app_id_is_optional_and_digits_only():
    base = {"waba_id": "1", "phone_number_id": "2", "access_token": "t", "app_secret": "s"}
    assert WhatsAppForm(data=base).is_valid()
    given = WhatsAppForm(data={**base, "app_id": " 584544743160774 "})
    assert given.is_valid() and given.cleaned_data["app_id"] == "584544743160774"
    form = WhatsAppForm(data={**base, "app_id": "my-app"})
    assert not form.is_valid() and form.errors["app_id"] == [
        "The app id is digits only (copy it from the Meta app's basic settings)."
    ]
    assert "picture, video or document" in str(WhatsAppForm.base_fields["app_id"].help_text)
