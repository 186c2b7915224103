import pytest

from tests.contacts.helpers import DATA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketer_uploads_a_file_and_sees_it_done_with_a_report(login, live_server, marketer_browser_user, page):
    login("marketer", "marketer-pass-123")
    page.goto(f"{live_server.url}/admin/contacts/filetransfer/add/")
    page.fill("#id_name", "May consents")
    page.select_option("#id_kind", "sms-iys")
    page.set_input_files("#id_file", str(DATA / "sms_iys_mixed.txt"))
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/contacts/filetransfer/")
    row = page.locator("#result_list tbody tr").filter(has_text="May consents")
    row.locator("[data-field=status_label]").filter(has_text="Done").wait_for()
    assert row.locator("[data-field=progress]").evaluate("el => el.style.width") == "100%"
    assert row.locator("td.field-rejected_count").inner_text() == "15"
    report = row.locator("a[data-field=report]")
    assert report.is_visible()
    with page.expect_download() as download:
        report.click()
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert content.splitlines()[0] == "line,raw line,reason" and "31.02.2025" in content


@pytest.fixture
def marketer_browser_user(marketer):
    return marketer
