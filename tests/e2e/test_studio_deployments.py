"""The Studio's Deployments section in a real headless Chromium, against a real relaygate and a
fake upstream: create through the form, list, edit (a new version), compare versions, roll back,
try it (streamed), copy a snippet, delete.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from .browser import Studio
from upstream import DEFAULT_REPLY, FakeUpstream, Fault

# A browser's waits are bounded (5 s for an expectation): run alone (scripts/test), not beside other tests.
pytestmark = pytest.mark.serial

KEY = "customer-support"
PRIMARY = "fake/gpt-test"
BACKUP = "backup/gpt-test"
MESSAGES = [
    {"role": "system", "content": "You answer questions about {{product}}.\nBe brief."},
    {"role": "user", "content": "{{question}}"},
]


def add_models(workspace: Any, upstream: FakeUpstream) -> dict[str, Any]:
    """Two chat models (the second for variants and fallbacks); returns the first."""
    primary = workspace.add_model(
        upstream, "gpt-test", display_name="Fake GPT", input_cost=0.5, output_cost=1.5
    )
    workspace.add_model(upstream, "gpt-test", display_name="Backup GPT", provider="backup")
    return dict(primary)


def create_deployment(workspace: Any, **fields: Any) -> dict[str, Any]:
    body = {"key": KEY, "display_name": "Customer support", "model": PRIMARY, "messages": MESSAGES, **fields}
    response = workspace.api("POST", "/v2/deployments", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def message(page: Page, number: int, within: Locator | None = None) -> Locator:
    return (within or page).get_by_role("group", name=f"Message {number}", exact=True)


def test_create_list_edit_compare_and_roll_back(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    add_models(workspace, fake_upstream)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Deployments").click()
    expect(page.get_by_role("heading", name="No deployments yet")).to_be_visible()
    page.get_by_role("link", name="Create deployment").first.click()
    expect(page.get_by_role("heading", level=1, name="New deployment")).to_be_visible()

    # The key's rules are checked as it is typed.
    key = page.get_by_label("Key")
    key.fill("customer support")
    expect(page.get_by_text("The key cannot contain spaces")).to_be_visible()
    key.fill(KEY)
    expect(key).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator(".router-preview")).to_contain_text(f"deployment/{KEY}")
    page.get_by_label("Display name").fill("Customer support")

    # The template highlights {{variables}} as they are typed and lists them.
    message(page, 1).get_by_label("Content").fill(MESSAGES[0]["content"])
    message(page, 2).get_by_label("Content").fill(MESSAGES[1]["content"])
    expect(message(page, 1).locator("mark.template-var")).to_have_text("{{product}}")
    found = page.locator(".deployment-form .variables-found").first
    expect(found.locator(".template-var")).to_have_text(["{{product}}", "{{question}}"])
    expect(page.locator(".side-panel .template-var")).to_have_text(["{{product}}", "{{question}}"])

    page.get_by_role("combobox", name="Model", exact=True).first.select_option(PRIMARY)
    page.get_by_label("Temperature").first.fill("0.3")

    page.get_by_role("button", name="+ Add variant").click()
    variant = page.get_by_role("group", name="Variant 1", exact=True)
    variant.get_by_label("Name").fill("staging")
    variant.get_by_label("Context field").fill("environments")
    variant.get_by_label("Context value").fill("staging")
    variant.get_by_label("Model").select_option(BACKUP)
    page.get_by_role("button", name="+ Add fallback").click()
    page.get_by_role("group", name="Fallback 1", exact=True).get_by_label("Model").select_option(BACKUP)
    page.get_by_label("Retries").fill("2")
    studio.screenshot("deployment-edit")

    page.get_by_role("button", name="Create deployment").click()
    expect(page.locator(".flash-slot")).to_contain_text(f"{KEY} was created (version 1)")
    expect(page.get_by_role("heading", level=1, name="Customer support")).to_be_visible()
    stored = workspace.api("GET", f"/v2/deployments/{KEY}").json()
    assert stored["messages"] == MESSAGES
    assert stored["parameters"] == {"temperature": 0.3}
    assert stored["variants"] == [
        {"name": "staging", "context": {"environments": "staging"}, "model": BACKUP}
    ]
    assert stored["fallbacks"] == [{"model": BACKUP}]
    assert stored["retry"] == {"count": 2}
    assert stored["variables"] == ["product", "question"]

    page.get_by_role("link", name="Deployments", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text=KEY)
    expect(row).to_contain_text("Customer support")
    expect(row).to_contain_text(PRIMARY)
    expect(row).to_contain_text("v1")
    expect(row).to_contain_text("{{product}}")
    studio.screenshot("deployments")

    # Edit: version 2.
    row.get_by_role("link", name=KEY).click()
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Edit Customer support")).to_be_visible()
    expect(page.get_by_label("Key")).to_have_attribute("readonly", "")
    page.get_by_role("button", name="Save as new version").click()
    expect(page.locator(".form-status")).to_have_text("Nothing changed: version 1 stays current.")
    message(page, 1).get_by_label("Content").fill(
        "You answer questions about {{product}}.\nBe brief and kind."
    )
    page.get_by_label("Temperature").first.fill("0.5")
    page.get_by_role("button", name="Save as new version").click()
    expect(page.locator(".flash-slot")).to_contain_text("Saved as version 2.")
    assert workspace.api("GET", f"/v2/deployments/{KEY}").json()["version"] == 2

    # The two versions side by side: the changed line and the changed parameter.
    page.get_by_role("tab", name="Versions").click()
    expect(page.get_by_label("Compare", exact=True)).to_have_value("1")
    expect(page.get_by_label("with", exact=True)).to_have_value("2")
    diff = page.locator(".version-diff")
    expect(diff.locator(".diff-del")).to_contain_text(["Be brief.", '"temperature": 0.3'])
    expect(diff.locator(".diff-ins")).to_contain_text(["Be brief and kind.", '"temperature": 0.5'])
    expect(diff).to_contain_text("Unchanged: Model, Variants, Routing, Name and description.")
    studio.screenshot("deployment-detail")

    # Roll back to version 1: a new version 3 with version 1's content.
    page.get_by_role("button", name="Roll back to version 1").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("becomes current as version 3")
    dialog.get_by_role("button", name="Roll back").click()
    expect(page.locator(".flash-slot")).to_contain_text("version 3 has the content of version 1")
    expect(page.get_by_role("tab", name="Versions")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("row").filter(has_text="rollback to version 1")).to_contain_text("Version 3")
    current = workspace.api("GET", f"/v2/deployments/{KEY}").json()
    assert current["version"] == 3
    assert current["messages"] == MESSAGES
    assert current["parameters"] == {"temperature": 0.3}


def test_a_server_error_lands_on_the_field_it_names(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    add_models(workspace, fake_upstream)
    create_deployment(workspace)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto("/studio/deployments/_new")
    page.get_by_label("Key").fill(KEY)
    message(page, 1).get_by_label("Content").fill("Hello")
    message(page, 2).get_by_role("button", name="Remove message 2").click()
    expect(message(page, 2)).to_have_count(0)
    page.get_by_role("combobox", name="Model", exact=True).first.select_option(PRIMARY)
    page.get_by_role("button", name="+ Add variant").click()
    variant = page.get_by_role("group", name="Variant 1", exact=True)
    variant.get_by_label("Name").fill("default")  # the name of the deployment's own prompt
    variant.get_by_label("Context field").fill("locale")
    variant.get_by_label("Context value").fill("en, fr")
    page.get_by_role("button", name="Create deployment").click()
    expect(variant.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(variant).to_contain_text("not 'default'")
    expect(variant.get_by_label("Name")).to_be_focused()

    variant.get_by_label("Name").fill("bilingual")
    variant.get_by_label("Its own messages").check()  # starts as a copy of the deployment's
    message(page, 1, within=variant).get_by_label("Content").fill("Bonjour {{name}}")
    page.get_by_role("button", name="Create deployment").click()  # the key is taken
    expect(page.get_by_label("Key")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Key")).to_be_focused()

    page.get_by_label("Key").fill("greeter")
    page.get_by_role("button", name="Create deployment").click()
    expect(page.locator(".flash-slot")).to_contain_text("greeter was created (version 1)")
    stored = workspace.api("GET", "/v2/deployments/greeter").json()
    assert stored["messages"] == [{"role": "system", "content": "Hello"}]
    assert stored["variants"][0]["context"] == {"locale": ["en", "fr"]}
    assert stored["variants"][0]["messages"] == [{"role": "system", "content": "Bonjour {{name}}"}]
    assert stored["variables"] == ["name"]


def test_try_it_streams_and_the_snippets_copy(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    add_models(workspace, fake_upstream)
    create_deployment(
        workspace, variants=[{"name": "staging", "context": {"environments": "staging"}, "model": BACKUP}]
    )
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto(f"/studio/deployments/{KEY}")
    page.get_by_role("tab", name="Try it").click()
    page.get_by_label("product", exact=True).fill("relaygate")
    page.get_by_label("question", exact=True).fill("What is {{product}}?")  # sent as text, not a template
    fake_upstream.script("/chat/completions", [Fault(chunk_delay=0.2)])
    page.get_by_role("button", name="Run").click()

    answer = page.locator(".try-answer")
    expect(answer).to_have_class(re.compile("message-streaming"))
    expect(answer).not_to_be_empty()
    partial = answer.inner_text()
    expect(answer).not_to_have_class(re.compile("message-streaming"), timeout=20_000)
    assert answer.inner_text() == DEFAULT_REPLY
    assert len(partial) < len(DEFAULT_REPLY)
    served = page.locator(".try-meta")
    expect(served).to_contain_text("Version 1")
    expect(served).to_contain_text("Variant default")
    expect(served).to_contain_text(PRIMARY)
    expect(served).to_contain_text(re.compile(r"\d+ in \+ \d+ out = \d+ tokens"))
    expect(served).to_contain_text(re.compile(r"cost \$0\.0\d+"))
    sent = fake_upstream.requests_to("/chat/completions")[-1].json
    assert sent["messages"] == [
        {"role": "system", "content": "You answer questions about relaygate.\nBe brief."},
        {"role": "user", "content": "What is {{product}}?"},
    ]
    studio.screenshot("deployment-try")

    # The context picks the variant, and its model answers.
    page.get_by_role("button", name="+ Add context").click()
    page.get_by_label("Context field").fill("environments")
    page.get_by_label("Context value").fill("staging")
    page.get_by_role("button", name="Run").click()
    expect(served).to_contain_text("Variant staging", timeout=20_000)
    expect(served).to_contain_text(BACKUP)

    page.get_by_role("tab", name="Code").click()
    page.get_by_role("tab", name="Python (orq-ai-sdk)").click()
    page.get_by_role("button", name="Copy Python").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "from orq_ai_sdk import Orq" in copied
    assert f'server_url="{studio.base_url}"' in copied
    assert f'key="{KEY}"' in copied
    assert '"product": "<product>"' in copied
    page.get_by_role("tab", name="OpenAI SDK").click()
    expect(page.get_by_role("tabpanel", name="OpenAI SDK")).to_contain_text(f'model="deployment/{KEY}"')


def test_delete_asks_first_and_frees_the_model(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = add_models(workspace, fake_upstream)
    create_deployment(workspace)
    page = studio.page
    studio.sign_in(workspace.admin_key)

    # The model page says in the API's words why a model a deployment uses is not deleted.
    studio.goto(f"/studio/models/{model['id']}")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete model").click()
    expect(page.locator(".error-slot")).to_contain_text(f"is used by the deployments '{KEY}'")

    studio.goto(f"/studio/deployments/{KEY}")
    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This cannot be undone.")
    dialog.get_by_role("button", name="Cancel").click()
    assert workspace.api("GET", f"/v2/deployments/{KEY}").status_code == 200
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete deployment").click()
    expect(page.locator(".flash-slot")).to_contain_text(f"{KEY} was deleted.")
    expect(page.get_by_role("heading", name="No deployments yet")).to_be_visible()
    assert workspace.api("GET", f"/v2/deployments/{KEY}").status_code == 404
    assert workspace.api("DELETE", f"/v2/models/{model['id']}").status_code == 200
