"""A template with a picture, video or document header (providers.md §6.4, Meta's "Template media"):
submitting it fetches the sample from its link and uploads it to the Meta app, so Meta receives the
upload's handle and never the link; sends keep using the link. Without the Meta app id, or with a
sample that is too big, not over https or on a private address, it is refused in words and Meta is
not called. Against the fake Cloud API and a sample server over real HTTP."""

import datetime
import ipaddress
import json
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from channels_whatsapp.editor import TemplateEditorForm
from channels_whatsapp.models import WhatsAppTemplate
from channels_whatsapp.services import template_save_draft, template_submit, templates_sync
from channels_whatsapp.single import whatsapp_send
from contacts.models import Contact
from providers.base import TransportError
from providers.services import account_install
from providers.whatsapp.uploads import MB
from tests.fakes.whatsapp import SampleServer
from tests.providers.test_whatsapp_uploads import png

pytestmark = pytest.mark.django_db

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(512)  # an MP4 by its signature
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def samples():
    """The public host of the samples (on 127.0.0.1 over http, so tests allow it where they need it)."""
    server = SampleServer().start()
    yield server
    server.stop()


@pytest.fixture
def https_samples(samples, tmp_path, monkeypatch):
    """The sample server over TLS with a certificate for "localhost" from a CA the fetch is made to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    samples.server.socket = context.wrap_socket(samples.server.socket, server_side=True)
    monkeypatch.setattr("channels_whatsapp.services.certifi.where", lambda: str(tmp_path / "cert.pem"))
    assert ipaddress.ip_address(samples.server.server_address[0]).is_loopback
    return samples


@pytest.fixture
def reachable(settings):
    settings.WHATSAPP_SAMPLE_FETCH_ALLOW_PRIVATE = True


def account_for(fake, **values):
    return account_install(
        name="WA",
        connector="whatsapp",
        values={
            "base_url": fake.url,
            "waba_id": fake.waba_id,
            "phone_number_id": fake.phone_number_id,
            "access_token": fake.access_token,
            "app_secret": fake.app_secret,
            "app_id": fake.app_id,
            **values,
        },
    )


def editor_data(link: str, kind: str = "image") -> dict:
    return {
        "name": "yaz_indirimi",
        "language": "tr",
        "category": "MARKETING",
        "header_type": kind,
        "header_media_url": link,
        "body": "Merhaba {{1}}, yaz indirimi başladı.",
        "body_1_example": "Ayşe",
        "body_1_source": "name",
        "body_1_default": "Müşterimiz",
    }


def draft(account, link: str, kind: str = "image", name: str = "yaz_indirimi") -> WhatsAppTemplate:
    form = TemplateEditorForm(data=editor_data(link, kind))
    assert form.is_valid(), form.errors
    return template_save_draft(
        account=account,
        name=name,
        language="tr",
        category="MARKETING",
        components=form.components(),
        bindings=form.bindings(),
    )


def meta_calls(fake) -> list[dict]:
    """What reached Meta about samples and templates (uploads and template creation)."""
    return [r for r in fake.requests if "upload" in r["path"] or r["path"].endswith("/message_templates")]


def refusal(template) -> str:
    with pytest.raises(ValidationError) as refused:
        template_submit(template=template)
    template.refresh_from_db()
    assert not template.provider_id and not template.status  # still a draft
    return " ".join(refused.value.messages)


@pytest.mark.parametrize(
    ("kind", "name", "data"),
    [("image", "kampanya/yaz.png", png()), ("video", "tanitim.mp4", MP4), ("document", "katalog.pdf", PDF)],
)
def test_meta_receives_the_uploaded_samples_handle_and_sends_still_use_the_link(
    fake, samples, reachable, kind, name, data
):
    account = account_for(fake)
    link = samples.add(name, data, "application/octet-stream")  # the type is read from the bytes
    template = template_submit(template=draft(account, link, kind))
    assert template.status == "PENDING" and samples.fetched == [f"/{name}"]
    [create] = [r for r in fake.requests if r["path"].endswith("/message_templates")]
    assert link.encode() not in create["body"]
    [handle] = json.loads(create["body"])["components"][0]["example"]["header_handle"]
    assert fake.uploaded(handle)["data"] == data and fake.uploaded(handle)["file_name"] == name.rsplit("/")[-1]
    assert template.components[0]["example"] == {"header_handle": [handle]}  # as submitted
    assert template.variables["header"]["1"]["default"] == link  # the sends' link is kept

    fake.approve(template.provider_id)
    templates_sync(account=account)
    Contact.objects.create(whatsapp_number="+905321110001", whatsapp_consent="opt_in", attributes={"name": "Can"})
    message = whatsapp_send(to="+905321110001", account=account, template=WhatsAppTemplate.objects.get())
    sent = fake.accepted[message.provider_id]["template"]["components"]
    assert next(c for c in sent if c["type"] == "header")["parameters"] == [{"type": kind, kind: {"link": link}}]


def test_a_redirect_is_followed_to_the_sample(fake, samples, reachable):
    samples.redirects["/eski.png"] = samples.add("yeni.png", png(), "image/png")
    template = template_submit(template=draft(account_for(fake), f"{samples.url}/eski.png"))
    assert template.status == "PENDING" and samples.fetched == ["/eski.png", "/yeni.png"]


def test_without_the_meta_app_id_it_is_refused_in_words_before_anything_is_fetched(fake, samples, reachable):
    template = draft(account_for(fake, app_id=""), samples.add("yaz.png", png(), "image/png"))
    assert "add the Meta app id on the WhatsApp account" in refusal(template)
    assert meta_calls(fake) == [] and samples.fetched == []


@pytest.mark.parametrize("hide_length", [False, True], ids=["said-by-content-length", "counted-while-read"])
def test_a_sample_over_whatsapps_limit_is_refused_and_meta_is_not_called(fake, samples, reachable, hide_length):
    samples.hide_length = hide_length
    template = draft(account_for(fake), samples.add("dev.png", png() + bytes(5 * MB), "image/png"))
    assert "larger than 5 MB, WhatsApp's limit for images" in refusal(template)
    assert meta_calls(fake) == []


def test_a_sample_link_not_over_https_is_refused_and_nothing_is_fetched(fake, samples):
    template = draft(account_for(fake), samples.add("yaz.png", png(), "image/png"))  # http://127.0.0.1:…
    assert "The sample link must start with https://" in refusal(template)
    assert samples.fetched == [] and meta_calls(fake) == []


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.1.10", "169.254.169.254", "100.64.0.1", "[::1]",
     "[::ffff:127.0.0.1]", "[fe80::1]"],
)  # fmt: skip
def test_a_sample_link_to_a_private_or_local_address_is_refused_before_connecting(fake, host):
    template = draft(account_for(fake), f"https://{host}/kampanya/yaz.png")
    assert "points to a private or local address" in refusal(template)
    assert meta_calls(fake) == []


def test_the_sample_servers_own_address_is_refused_over_https_too(fake, samples):
    link = samples.add("yaz.png", png(), "image/png").replace("http://", "https://")
    assert "private or local address (127.0.0.1)" in refusal(draft(account_for(fake), link))
    assert samples.fetched == []  # refused before connecting


def test_over_https_the_certificate_is_checked_for_the_links_host(fake, https_samples, reachable):
    port = https_samples.server.server_address[1]
    https_samples.add("yaz.png", png(), "image/png")
    account = account_for(fake)
    # the connection goes to the address "localhost" resolved to; TLS still checks the name "localhost"
    template = template_submit(template=draft(account, f"https://localhost:{port}/yaz.png"))
    assert template.status == "PENDING" and https_samples.fetched == ["/yaz.png"]
    other = draft(account, f"https://127.0.0.1:{port}/yaz.png", name="ip_ile")  # not the certificate's name
    assert "certificate is not valid" in refusal(other)


def test_a_sample_that_is_not_what_whatsapp_takes_or_not_there_is_refused_in_words(fake, samples, reachable):
    account = account_for(fake)
    assert "is not a JPEG or PNG image" in refusal(draft(account, samples.add("yaz.jpg", GIF, "image/jpeg")))
    assert "answered HTTP 404 instead of the file" in refusal(draft(account, f"{samples.url}/yok.png", name="yok"))
    assert "could not be reached" in refusal(draft(account, "http://127.0.0.1:9/yaz.png", name="kapali"))
    assert meta_calls(fake) == []


def test_metas_refusal_of_the_upload_is_said_and_no_template_is_created(fake, samples, reachable):
    template = draft(account_for(fake, app_id="999"), samples.add("yaz.png", png(), "image/png"))
    with pytest.raises(TransportError, match="Meta does not know the app id 999"):
        template_submit(template=template)
    assert not [r for r in fake.requests if r["path"].endswith("/message_templates")]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "add the Meta app id on the WhatsApp account"),
        ("tr", "WhatsApp hesabına Meta uygulama kimliğini ekleyin"),
    ],
)
def test_the_admin_page_says_why_and_keeps_no_draft(client, marketer, fake, samples, reachable, language, words):
    client.force_login(marketer)
    account = account_for(fake, app_id="")
    data = {**editor_data(samples.add("yaz.png", png(), "image/png")), "account": account.pk, "_submit": "1"}
    page = client.post(reverse("admin:channels_whatsapp_whatsapptemplate_add"), data, HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    assert words in page.content.decode()
    assert not WhatsAppTemplate.objects.exists() and meta_calls(fake) == []
