"""An auditor at work in a browser: sign in, draw a sample, review an answer beside its marked
passage, sign off, watch the dashboard change, and take the audit report (printed to PDF)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.review.conftest import answer_with

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def page(live_server, alice, carol, settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "audit-key.pem"
    answer_with(alice)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def test_an_auditor_samples_reviews_signs_off_and_reports(live_server, page, tmp_path):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("carol-pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.locator("main")).to_contain_text("From 0 signed reviews")

    page.get_by_role("link", name="Review queue").click()
    page.get_by_label("Answers", exact=True).fill("1")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_role("heading", name="Sample #")).to_be_visible()
    page.locator("table a[href*='/review/answers/']").first.click()

    marked = page.locator(".passage mark").first
    expect(marked).to_have_text("at least six years")
    expect(marked).to_be_in_viewport()
    groups = page.locator("fieldset.labels")
    expect(groups).to_have_count(3)
    for index in range(3):
        label = "Misgrounded" if index == 1 else "Correct and grounded"
        groups.nth(index).get_by_label(label).check()
    page.get_by_label("Note").fill("source 2 does not state the period")
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator(".signed")).to_contain_text("You signed off this review")

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.locator("main")).to_contain_text("From 1 signed review")
    expect(page.locator("main")).to_contain_text("100.0% (1/1")
    expect(page.locator("svg.chart").first).to_be_visible()

    page.get_by_role("link", name="Audit report").click()
    expect(page.get_by_role("heading", name="Signed checkpoint")).to_be_visible()
    expect(page.locator("main")).to_contain_text("source 2 does not state the period")
    pdf = page.pdf(path=str(tmp_path / "report.pdf"))
    assert pdf.startswith(b"%PDF")
