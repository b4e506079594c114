"""The demo's ask page on the demo's own documents: the questions a new user asks first."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from tests.assistant.test_browser import CHROMIUM
from tests.corpora.conftest import ingest

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FIXTURES = settings.BASE_DIR / "fixtures"
# The demo documents these questions need, and some that answer other questions near them.
DEMO_DOCUMENTS = {
    "regulatory": ["adgm-1"],  # the AML rulebook
    "legal": ["scotus-4104823", "scotus-4161363"],  # Salman v. United States, Manrique
    "medical": [
        "medquad-NIDDK_0000078",  # gestational diabetes: names metformin once
        "medquad-NIDDK_0000009",  # hypothyroidism: side effects of its medicine
        "medquad-CDC_0000269",  # filariasis: side effects of its treatment
        "medquad-NIDDK_0000205",  # bladder control: side effects of its drugs
        "pmid-25592625",
    ],
}


@pytest.fixture
def demo(tmp_path, django_user_model):
    """The demo's corpora and users, as `manage.py load_demo` makes them, with a subset of
    its documents."""
    from apps.accounts.models import Role
    from apps.accounts.services import corpus_access_grant, role_assign
    from apps.corpora import services

    spec = json.loads((FIXTURES / "demo.json").read_text())
    corpora = {}
    for entry in spec["corpora"]:
        fields = {k: entry[k] for k in ("slug", "name", "domain", "description")}
        corpora[entry["slug"]] = services.corpus_create(**fields)
        wanted = set(DEMO_DOCUMENTS[entry["slug"]])
        lines = (FIXTURES / entry["documents"]).read_text().splitlines()
        subset = tmp_path / f"{entry['slug']}.jsonl"
        subset.write_text("\n".join(x for x in lines if json.loads(x)["id"] in wanted) + "\n")
        ingest(corpora[entry["slug"]], subset)
    for entry in spec["users"]:
        if entry["roles"] == ["practitioner"]:
            user = django_user_model.objects.create_user(entry["username"], password="demo-pw")
            role_assign(user=user, role=Role.PRACTITIONER)
            for slug in entry["corpora"]:
                corpus_access_grant(corpus=corpora[slug], user=user)


@pytest.fixture
def ask(live_server, demo):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking"],
        )

        def ask_as(username: str, question: str):
            context = browser.new_context(viewport={"width": 1000, "height": 800})
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{live_server.url}/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill("demo-pw")
            page.get_by_role("button", name="Log in").click()
            page.get_by_label("Question").fill(question)
            page.get_by_role("button", name="Ask").click()
            return page

        yield ask_as
        browser.close()


def test_the_demo_abstains_on_what_it_cannot_answer_and_answers_what_it_can(ask):
    # bob reads the medical corpus, which names metformin once and says nothing of its effects.
    page = ask("bob", "What are the side effects of metformin?")
    expect(page.locator("#abstain-reason")).to_contain_text("metformin")
    expect(page.locator("#abstention")).to_be_visible()
    expect(page.locator("#answer .statement")).to_have_count(0)

    # alice reads legal and regulatory corpora; the AML rulebook keeps records six years.
    page = ask("alice", "How long must customer due diligence records be kept?")
    expect(page.locator("#stage")).to_have_text("Answered.")
    statements = page.locator("#answer .statement")
    expect(statements.first).to_be_visible()
    assert all("six years" in text for text in statements.all_inner_texts())
    expect(statements.first.locator("a.citation").first).to_have_attribute(
        "aria-label",
        "Source "
        + statements.first.locator("a.citation").first.inner_text()[1:-1]
        + ": "
        + page.locator("#sources li a").first.inner_text(),
    )

    # Salman is an insider-trading case: it holds nothing about the Fifth Amendment.
    page = ask(
        "alice", "What did the Court hold about the Fifth Amendment in Salman v. United States?"
    )
    expect(page.locator("#abstention")).to_be_visible()
    expect(page.locator("#abstain-reason")).to_contain_text("Fifth Amendment")
    expect(page.locator("#answer .statement")).to_have_count(0)

    # Asked about its holding, it quotes the holding, not the Reporter's notice above it.
    page = ask("alice", "What did the Court hold in Salman v. United States?")
    expect(page.locator("#stage")).to_have_text("Answered.")
    texts = page.locator("#answer .statement").all_inner_texts()
    assert any(text.startswith("Held:") for text in texts), texts
    assert not any("Reporter of Decisions" in text for text in texts), texts
