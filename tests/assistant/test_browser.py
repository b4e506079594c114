from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.assistant.generators.base import GeneratorError
from tests.assistant.conftest import CDD_SENTENCE

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}"),
    # The live server needs committed data; restore the migrated roles after each flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

QUESTION = "Which beneficial owners must a relevant person identify?"


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def page(live_server, corpora, alice):
    """A browser page, opened once the data is in and closed before the database is reset:
    while Playwright runs, its event loop makes Django use other connections in this thread."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.set_default_timeout(20_000)
        yield page
        browser.close()


@pytest.fixture
def asked(live_server, page):
    """Log alice in through the form, then ask the question; returns the page."""

    def ask():
        page.goto(f"{live_server.url}/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-pw")
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Question").fill(QUESTION)
        page.get_by_role("button", name="Ask").click()
        return page

    return ask


def test_an_answer_streams_in_and_its_citation_opens_the_marked_passage(asked, generator):
    page = asked()
    statement = page.locator("#answer .statement")
    expect(statement).to_contain_text("must identify every beneficial owner holding 25%")
    expect(page.locator("#stage")).to_have_text("Answered.")
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()
    expect(page.locator("#sources li")).to_have_count(1)
    assert fits_the_width(page)

    with page.context.expect_page() as opened:
        statement.locator("a.citation").click()
    document = opened.value
    cited = document.locator("mark#cited")
    expect(cited).to_be_in_viewport()
    assert " ".join(cited.inner_text().split()) == " ".join(CDD_SENTENCE.split())
    assert fits_the_width(document)


def test_an_abstention_shows_its_reason_and_the_passages_looked_at(asked, generator):
    generator(
        lambda prompt: ['{"statements": [{"text": "Owners of 10% count.", "citations": [1]}]}']
    )
    page = asked()
    box = page.locator("#abstention")
    expect(box).to_be_visible()
    expect(page.locator("#abstain-reason")).to_contain_text(
        "no passage in the corpora you can read supports an answer"
    )
    expect(page.locator("#dropped li")).to_have_count(1)
    expect(page.locator("#looked-at li").first).to_be_visible()
    expect(page.locator("#answer .statement")).to_have_count(0)


def test_an_unavailable_generator_is_reported(asked, monkeypatch):
    def unavailable():
        raise GeneratorError("the generator is not running")

    monkeypatch.setattr("apps.assistant.services.get_generator", unavailable)
    page = asked()
    expect(page.get_by_role("alert")).to_have_text("the generator is not running")
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()
