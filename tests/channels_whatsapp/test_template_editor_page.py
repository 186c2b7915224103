"""The editor in the panel's frame (the test page of tests/channels_whatsapp/urls.py, until the
template model's admin page uses it): its own static files, no inline script or style (the
Content-Security-Policy), each problem next to its field, in the user's language."""

from pathlib import Path

import pytest

from tests.channels_whatsapp.helpers import ORDER
from tests.config.test_security import HANDLER_ATTRIBUTE, INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.channels_whatsapp.urls")]
PAGE = "/admin/whatsapp-template-editor/"
HERE = Path(__file__).parent


def inline(text: str) -> list[str]:
    return [
        m.group(0) for p in (INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE, HANDLER_ATTRIBUTE) for m in p.finditer(text)
    ]


def test_the_page_draws_the_fields_and_the_phone_with_its_own_files_and_nothing_inline(client, marketer):
    client.force_login(marketer)
    response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<script src="/static/channels_whatsapp/template_editor.js"' in page
    assert 'href="/static/channels_whatsapp/template_editor.css"' in page
    assert "data-wa-preview" in page and 'data-wa-part="buttons"' in page
    assert 'data-wa-limit="1024"' in page and 'data-wa-limit="60"' in page and 'data-wa-limit="25"' in page
    assert '<datalist id="id_body_1_source_options"><option value="external_id">' in page
    assert "Kampanyaları durdur" in page  # the stop label's default, in the template's language (tr)
    assert inline(page) == []
    assert inline((HERE / "editor_page.html").read_text(encoding="utf-8")) == []


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_valid_template_shows_what_would_go_to_meta(client, marketer):
    client.force_login(marketer)
    page = client.post(PAGE, ORDER, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="wa-submitted"' in page and "errornote" not in page
    assert "&quot;type&quot;: &quot;QUICK_REPLY&quot;" in page and "&quot;button:0&quot;" in page


def test_each_problem_is_shown_next_to_its_field(client, marketer):
    client.force_login(marketer)
    data = {**ORDER, "footer": "x" * 61, "button_1_url": "https://ex.com/{{1}}/track"}
    page = client.post(PAGE, data, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "errornote" in page and 'id="wa-submitted"' not in page
    footer_row = page[page.index("form-row errors field-footer") :]
    assert footer_row.index("61 characters") < footer_row.index('name="footer"')
    url_row = page[page.index("form-row errors field-button_1_url") :]
    assert url_row.index("at its very end") < url_row.index('name="button_1_url"')


def test_the_editor_speaks_turkish(client, marketer):
    client.force_login(marketer)
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    for words in ("Mesaj metni", "Önizleme", "Düğme 1", "Web sitesini ziyaret et", "Yazdıkça mesaj burada görünür."):
        assert words in page, words
    page = client.post(PAGE, {**ORDER, "footer": "x" * 61}, HTTP_ACCEPT_LANGUAGE="tr").content.decode()
    assert "Çok uzun: 61 karakter; WhatsApp en çok 60 karaktere izin verir." in page
