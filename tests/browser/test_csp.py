"""The Content-Security-Policy blocks nothing the panel itself needs: every kind of page is opened in
Chromium and neither a `securitypolicyviolation` event nor a console message about the policy may
appear (issue 12)."""

import pytest
from django.core.management import call_command

from messaging.models import Campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded from the first script on, before any of the page's own.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


def test_no_page_of_the_panel_trips_the_content_security_policy(login, live_server, django_user_model, page):
    django_user_model.objects.create_superuser("boss", password="boss-pass-123")
    call_command("seed_demo", count=30, verbosity=0)
    call_command("seed_sms_demo", verbosity=0)
    call_command(
        "install_connector",
        "iys",
        "--set",
        "brand_code=1",
        "--set",
        "iys_code=1",
        "--set",
        "username=u",
        "--set",
        "password=p",
        "--set",
        "environment=sandbox",
        stdout=open("/dev/null", "w"),
    )
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.add_init_script(RECORD_VIOLATIONS)
    login("boss", "boss-pass-123")
    campaign = Campaign.objects.first()
    paths = [
        "/admin/",
        "/admin/contacts/contact/",
        "/admin/contacts/contact/add/",
        "/admin/contacts/contact/export/",
        "/admin/contacts/contact/import/",
        "/admin/contacts/filetransfer/",
        "/admin/contacts/filetransfer/add/",
        "/admin/consent/consent/",
        "/admin/consent/iysbackfill/",
        "/admin/channels_sms/smscampaign/add/",
        "/admin/providers/provideraccount/",
        "/admin/providers/provideraccount/add/",
        "/admin/providers/provideraccount/add/?connector=infobip",
        "/admin/django_celery_beat/periodictask/add/",
        "/admin/auth/user/add/",
        "/admin/password_change/",
    ]
    if campaign:
        paths.append(f"/admin/channels_sms/smscampaign/{campaign.pk}/change/")
    violations = {}
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers.get("content-security-policy", "").split("; "), path
        page.wait_for_load_state("load")
        found = page.evaluate("() => window.__cspViolations")
        if found:
            violations[path] = found
    # the export page's "select all" toggle runs its inline handler (allowed by its hash)
    page.goto(live_server.url + "/admin/contacts/contact/export/")
    toggle = page.locator("input.select-toggle")
    if toggle.count():
        toggle.first.uncheck()
        found = page.evaluate("() => window.__cspViolations")
        if found:
            violations["export toggle"] = found
    policy_messages = [
        line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line
    ]
    assert violations == {} and policy_messages == []
