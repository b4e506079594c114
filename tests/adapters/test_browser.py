"""The approval flow in the admin, in a browser: one model admin registered and evaluated a
version; the other approves and activates it; the registrant may not approve it."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.adapters import services
from apps.adapters.models import AdapterStatus, AdapterVersion
from tests.adapters.conftest import PASSING, adapter_folder

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REPORT = PASSING | {
    "arms": {
        "base": {"answered_with_gold": 0.0, "abstention_unanswerable": 0.9},
        "candidate": {"answered_with_gold": 0.35, "abstention_unanswerable": 0.9},
    }
}


@pytest.fixture
def evaluated(tmp_path, model_admins):
    dora, _ = model_admins
    folder = adapter_folder(tmp_path / "adapter")
    version = services.adapter_register(
        folder=folder, name="regulatory-answer", user=dora, domains=["regulatory"]
    )
    return services.adapter_evaluation_record(
        version=version, user=dora, report=REPORT, passed=True
    )


@contextmanager
def admin_browser(live_server):
    """A function signing a user in to the adapters' admin page; ORM calls wait until the
    browser is closed (its event loop would make Django refuse them)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(20_000)

        def signed_in(username: str):
            page.context.clear_cookies()
            page.goto(f"{live_server.url}/admin/login/?next=/admin/adapters/adapterversion/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(f"{username}-password-1")
            page.get_by_role("button", name="Log in").click()
            return page

        yield signed_in
        browser.close()


def act(page, action: str) -> None:
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", action)
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).click()


def test_a_second_model_admin_approves_and_activates(live_server, evaluated, tmp_path):
    with admin_browser(live_server) as signed_in:
        approve_as_registrant_then_as_another(signed_in, tmp_path)
    version = AdapterVersion.objects.get(pk=evaluated.pk)
    assert version.status == AdapterStatus.ACTIVE and version.approved_by.username == "eve"
    actions = list(version.events.order_by("at", "id").values_list("action", flat=True))
    assert actions == ["registered", "evaluated", "approved", "activated"]


def approve_as_registrant_then_as_another(signed_in, tmp_path) -> None:
    page = signed_in("dora")
    expect(page.locator("#result_list")).to_contain_text("regulatory-answer")
    act(page, "approve")
    expect(page.locator(".messagelist .error")).to_contain_text("another must approve")

    page = signed_in("eve")
    page.get_by_role("link", name="regulatory-answer").first.click()
    expect(page.locator(".gate")).to_contain_text("passed")
    expect(page.locator("table.metrics")).to_contain_text("0.35")
    expect(page.locator("svg.loss-curve polyline")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "adapter.png"), full_page=True)
    page.go_back()
    act(page, "approve")
    expect(page.locator(".messagelist")).to_contain_text(
        re.compile("regulatory-answer v1 is approved", re.I)
    )
    act(page, "activate")
    expect(page.locator(".messagelist")).to_contain_text(
        re.compile("regulatory-answer v1 is active", re.I)
    )
