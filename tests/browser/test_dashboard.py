import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_logs_in_and_sees_the_dashboard(login, live_server, django_user_model, request):
    django_user_model.objects.create_superuser("boss", password="boss-pass-123")
    call_command("seed_demo", count=120, verbosity=0)
    page = login("boss", "boss-pass-123")
    figure = page.locator('[data-key="contacts"] .value')
    assert figure.inner_text() == "120"
    assert page.locator("#content").get_by_text("Targeting").first.is_visible()
    assert page.locator("#content").get_by_text("Connectors").first.is_visible()
    # the figures refresh from dashboard.json without reloading the page
    call_command("seed_demo", count=150, verbosity=0)
    page.evaluate("() => fetch(document.getElementById('panel-figures').dataset.url).then(r => r.json())")
    page.wait_for_function(
        "() => document.querySelector('[data-key=contacts] .value').textContent === '150'", timeout=15000
    )
    target = request.config.getoption("--screenshot-to")
    if target:
        page.screenshot(path=target, full_page=False)
