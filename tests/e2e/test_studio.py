"""The Studio in a real headless Chromium against a real relaygate and a real fake upstream.

Each test signs in with a fresh workspace's admin key, so tests never see each other's models,
keys or usage.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import openai
import pytest
from playwright.sync_api import Page, expect

from .browser import Studio
from upstream import FakeUpstream, Fault

# A browser's waits are bounded (5 s for an expectation): run alone (scripts/test), not beside other tests.
pytestmark = pytest.mark.serial

MODEL_NAME = "Fake GPT"
ROUTER_ID = "fake/gpt-test"


def fill_model_form(page: Page, upstream: FakeUpstream, *, api_key: str) -> None:
    form = page.get_by_role("form", name="OpenAI-like model")
    form.get_by_label("Type").select_option(label="Chat Completion")
    form.get_by_label("Base URL").fill(upstream.url)
    form.get_by_label("API Key").fill(api_key)
    form.get_by_label("Model Name").fill(MODEL_NAME)
    form.get_by_label("Model ID").fill("gpt-test")
    form.get_by_label("Region").select_option(label="United States")
    form.get_by_label("Provider slug").fill("fake")
    form.get_by_label("Description").fill("The tests' deterministic upstream")
    form.get_by_label("Max Tokens").fill("256")
    form.get_by_label("Temperature").fill("0.7")
    form.get_by_label("Input Price (per 1M tokens)").fill("0.5")
    form.get_by_label("Output Price (per 1M tokens)").fill("1.5")
    form.get_by_label("Tool calling").check()


def check_row(page: Page, name: str) -> Any:
    return page.locator(".check").filter(has=page.locator(".check-name", has_text=re.compile(f"^{name}$")))


def add_priced_model(workspace: Any, upstream: FakeUpstream) -> dict[str, Any]:
    return dict(
        workspace.add_model(
            upstream, "gpt-test", display_name=MODEL_NAME, input_cost=0.5, output_cost=1.5, max_tokens=256
        )
    )


def test_add_model_through_the_form(studio: Studio, workspace: Any, fake_upstream: FakeUpstream) -> None:
    page = studio.page
    studio.goto("/studio/sign-in")
    studio.screenshot("sign-in")
    studio.sign_in(workspace.admin_key)

    page.get_by_role("button", name="Add Model").click()
    page.get_by_role("link", name=re.compile("^OpenAI-like")).click()
    expect(page.get_by_role("heading", level=1, name="Add model")).to_be_visible()

    # The browser checks fields before anything is sent.
    page.get_by_role("button", name="Add Model").click()
    expect(page.get_by_text("Choose the type of model.")).to_be_visible()
    expect(page.get_by_label("Type")).to_be_focused()
    page.get_by_label("Base URL").fill("ftp://example.com")
    page.get_by_label("Base URL").blur()
    expect(page.get_by_text("The URL must start with http:// or https://.")).to_be_visible()

    fill_model_form(page, fake_upstream, api_key=fake_upstream.api_key or "unused")
    expect(page.locator(".router-preview")).to_contain_text(ROUTER_ID)
    studio.screenshot("add-model")
    fake_upstream.script("/chat/completions", [Fault(delay=1.0)])  # hold the capability check open
    page.get_by_role("button", name="Add Model").click()

    # The steps appear as the server finishes them, before the answer is complete.
    expect(page.get_by_role("button", name="Validating…")).to_be_disabled()
    expect(check_row(page, "Authentication")).to_have_class(re.compile("check-passed"))
    expect(check_row(page, "Capability")).to_have_class(re.compile("check-running"))
    expect(page.locator(".checks-status")).to_have_text("Checking capability…")

    expect(page.get_by_role("heading", level=1, name=MODEL_NAME)).to_be_visible()
    expect(page.locator(".flash-slot")).to_contain_text(f"Call it through the router as {ROUTER_ID}")
    for step in ("Connectivity", "Authentication", "Capability"):
        expect(check_row(page, step)).to_have_class(re.compile("check-passed"))
    expect(page.locator("#router-id")).to_have_text(ROUTER_ID)
    expect(page.get_by_role("tab", name="Python")).to_be_visible()
    page.get_by_role("tab", name="Python").click()
    expect(page.get_by_role("tabpanel")).to_contain_text(f'model="{ROUTER_ID}"')
    expect(page.get_by_role("tabpanel")).to_contain_text(f'base_url="{studio.base_url}/v3/router"')
    studio.screenshot("model-detail")

    page.get_by_role("link", name="Models", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text=MODEL_NAME)
    expect(row).to_contain_text(ROUTER_ID)
    expect(row).to_contain_text("Chat Completion")
    expect(row).to_contain_text("United States")
    expect(row).to_contain_text("Passed")
    expect(row).to_contain_text("$0.50 in · $1.50 out")
    studio.screenshot("models")

    # The model the form created answers through the router, to the official SDK.
    client = openai.OpenAI(
        base_url=f"{studio.base_url}/v3/router", api_key=workspace.new_key("router", "sdk"), max_retries=0
    )
    completion = client.chat.completions.create(
        model=ROUTER_ID, messages=[{"role": "user", "content": "Hello"}]
    )
    assert completion.choices[0].message.content
    forwarded = fake_upstream.requests_to("/chat/completions")[-1].json
    assert forwarded["model"] == "gpt-test"
    assert forwarded["max_tokens"] == 256  # the default set in the form's Advanced section


def test_wrong_api_key_fails_authentication_and_keeps_the_form(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto("/studio/models/new/openai-like")
    fill_model_form(page, fake_upstream, api_key="sk-wrong-key")
    page.get_by_role("button", name="Add Model").click()

    alert = page.locator(".checks-summary [role=alert]")
    expect(alert).to_contain_text("Authentication failed")
    expect(alert).to_contain_text("Incorrect API key provided.")  # the upstream's own words
    expect(check_row(page, "Connectivity")).to_have_class(re.compile("check-passed"))
    expect(check_row(page, "Authentication")).to_have_class(re.compile("check-failed"))
    expect(check_row(page, "Capability")).to_have_class(re.compile("check-not-run"))
    expect(page.get_by_label("API Key")).to_have_attribute("aria-invalid", "true")

    # Nothing was lost: the form is still filled in and can be corrected.
    assert page.url.endswith("/studio/models/new/openai-like")
    expect(page.get_by_label("Base URL")).to_have_value(fake_upstream.url)
    expect(page.get_by_label("API Key")).to_have_value("sk-wrong-key")
    expect(page.get_by_label("Model Name")).to_have_value(MODEL_NAME)
    expect(page.get_by_label("Output Price (per 1M tokens)")).to_have_value("1.5")
    expect(page.get_by_label("Tool calling")).to_be_checked()
    expect(page.get_by_role("button", name="Add Model")).to_be_enabled()
    studio.screenshot("add-model-failed")
    assert workspace.api("GET", "/v2/models").json()["data"] == []

    page.get_by_label("API Key").fill(fake_upstream.api_key or "unused")
    page.get_by_role("button", name="Add Model").click()
    expect(page.get_by_role("heading", level=1, name=MODEL_NAME)).to_be_visible()


def test_model_detail_edits_disables_and_deletes(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = add_priced_model(workspace, fake_upstream)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto(f"/studio/models/{model['id']}")

    page.get_by_role("button", name="Re-validate").click()
    expect(page.locator(".checks-status")).to_have_text("All checks passed.")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Model Name").fill("Renamed GPT")
    page.get_by_label("Base URL").fill(fake_upstream.url + "/")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_label("API Key")).to_have_attribute("aria-invalid", "true")  # a new URL needs the key
    page.get_by_label("Base URL").fill(fake_upstream.url)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1, name="Renamed GPT")).to_be_visible()

    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".flash-slot")).to_contain_text("disabled")
    assert workspace.api("GET", f"/v2/models/{model['id']}").json()["enabled"] is False
    page.get_by_role("button", name="Enable").click()
    expect(page.locator(".flash-slot")).to_contain_text("enabled")

    page.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This cannot be undone.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete model").click()
    expect(page.locator(".flash-slot")).to_contain_text("Renamed GPT was deleted.")
    assert workspace.api("GET", f"/v2/models/{model['id']}").status_code == 404


def test_playground_streams_an_answer(studio: Studio, workspace: Any, fake_upstream: FakeUpstream) -> None:
    add_priced_model(workspace, fake_upstream)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Playground").click()
    expect(page.get_by_label("Model")).to_have_value(ROUTER_ID)

    fake_upstream.script("/chat/completions", [Fault(chunk_delay=0.25)])
    page.get_by_label("Message", exact=True).fill("Say hello")
    page.get_by_label("Message", exact=True).press("Enter")

    answer = page.locator(".message-assistant").last
    # While the stream is open, part of the answer is already on screen.
    expect(answer).to_have_class(re.compile("message-streaming"))
    expect(answer.locator(".message-content")).not_to_be_empty()
    partial = answer.locator(".message-content").inner_text()
    expect(answer).not_to_have_class(re.compile("message-streaming"), timeout=20_000)
    final = answer.locator(".message-content").inner_text()
    assert final.startswith(partial)
    assert len(final) > len(partial)

    meta = answer.locator(".message-meta")
    expect(meta).to_contain_text(re.compile(r"\d+ in \+ \d+ out = \d+ tokens"))
    expect(meta).to_contain_text(re.compile(r"\d+(\.\d+)? (ms|s) total"))
    expect(meta).to_contain_text(re.compile(r"cost \$0\.0\d+"))
    sent = fake_upstream.requests_to("/chat/completions")[-1].json
    assert sent["stream"] is True
    assert sent["messages"][-1] == {"role": "user", "content": "Say hello"}
    studio.screenshot("playground")


def test_create_and_revoke_a_key(studio: Studio, workspace: Any, fake_upstream: FakeUpstream) -> None:
    add_priced_model(workspace, fake_upstream)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="API keys").click()

    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Enter a name for the key.")).to_be_visible()
    page.get_by_label("Name").fill("billing-service")
    page.get_by_label("Role").select_option("router")
    page.get_by_role("button", name="Create key").click()

    secret_box = page.locator("#new-key-secret")
    expect(secret_box).to_have_value(re.compile(r"\S{20,}"))
    secret = secret_box.input_value()
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.get_by_role("row").filter(has_text="billing-service")
    expect(row).to_contain_text("Router")
    expect(row).to_contain_text("Never")
    studio.screenshot("keys")

    client = openai.OpenAI(base_url=f"{studio.base_url}/v3/router", api_key=secret, max_retries=0)
    client.chat.completions.create(model=ROUTER_ID, messages=[{"role": "user", "content": "Hi"}])

    page.get_by_role("button", name="I have stored it").click()
    expect(secret_box).to_have_count(0)  # shown once: gone for good
    row.get_by_role("button", name="Revoke billing-service").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status").filter(has_text="billing-service was revoked")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="billing-service")).to_have_count(0)
    page.get_by_label("Show revoked keys").check()
    expect(page.get_by_role("row").filter(has_text="billing-service")).to_contain_text("Revoked")

    with pytest.raises(openai.AuthenticationError):
        _eventually_refused(client)

    # Limits and a budget go with the key and show in the list.
    page.get_by_label("Name").fill("capped")
    page.get_by_label("Requests per minute").fill("60")
    page.get_by_label("Tokens per minute").fill("10000")
    page.get_by_label("Budget (USD)").fill("10")
    page.get_by_label("Budget period").select_option("week")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key-secret")).to_be_visible()
    capped = page.get_by_role("row").filter(has_text="capped")
    expect(capped).to_contain_text("60 req/min · 10K tokens/min")
    expect(capped).to_contain_text("$0 of $10.00 per week")
    created = [key for key in workspace.api("GET", "/v2/api-keys").json()["data"] if key["name"] == "capped"]
    assert created[0]["limits"] == {"requests_per_minute": 60, "tokens_per_minute": 10000}
    assert created[0]["budget"]["amount_usd"] == 10


def _eventually_refused(client: openai.OpenAI, timeout: float = 5.0) -> None:
    """Revocation is immediate on this node; allow the catalog a moment on a multi-node setup."""
    deadline = time.monotonic() + timeout
    while True:
        client.chat.completions.create(model=ROUTER_ID, messages=[{"role": "user", "content": "Hi"}])
        if time.monotonic() > deadline:
            return
        time.sleep(0.2)


def _usage_contract(route: Any) -> None:
    """GET /v2/usage and /v2/usage/events as their contract describes them, with canned numbers."""
    url = route.request.url
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if "/v2/usage/events" in url:
        events = [
            {
                "id": f"evt_{n}",
                "created": (now - timedelta(minutes=7 * n)).isoformat(),
                "router_model": ("fake/gpt-test", "fake/embed-test")[n % 2],
                "endpoint": ("/chat/completions", "/embeddings")[n % 2],
                "status": (200, 200, 200, 429, 200, 500)[n % 6],
                "stream": n % 3 == 0,
                "prompt_tokens": 12 + n,
                "completion_tokens": 0 if n % 2 else 30 + n,
                "total_tokens": 42 + 2 * n,
                "cost": 0.00004 + n * 1e-6,
                "latency_ms": 180.0 + 9 * n,
            }  # api_key_id, identity_id, error_code...: absent, as for a call without them
            for n in range(12)
        ]
        route.fulfill(json={"object": "list", "data": events})  # the last page: no next_cursor
        return
    series: list[dict[str, Any]] = []
    for hour in range(24):
        bucket = (now - timedelta(hours=23 - hour)).isoformat()
        for group, scale in (("fake/gpt-test", 1.0), ("fake/embed-test", 0.4)):
            requests = int((20 + 15 * ((hour * 7) % 5)) * scale)
            series.append(
                {
                    "bucket": bucket,
                    "group": group,
                    "requests": requests,
                    "errors": requests // 12,
                    "prompt_tokens": requests * 40,
                    "completion_tokens": int(requests * 60 * scale),
                    "total_tokens": requests * 40 + int(requests * 60 * scale),
                    "cost": requests * 0.00021 * scale,
                    "latency_ms_avg": 240 + 35 * ((hour * 3) % 4) * scale,
                }
            )
    totals: dict[str, float] = {
        key: sum(row[key] for row in series)
        for key in ("requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens", "cost")
    }
    totals["latency_ms_avg"] = 262.5
    route.fulfill(
        json={
            "object": "usage",
            "from": (now - timedelta(hours=23)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
            "interval": "hour",
            "group_by": "model",
            "totals": totals,
            "series": series,
        }
    )


def test_usage_page_draws_the_contract(studio: Studio, workspace: Any) -> None:
    """The page against canned answers shaped like the /v2/usage contract (whatever the server has)."""
    page = studio.page
    page.route(re.compile(r".*/v2/usage(/events)?(\?.*)?$"), _usage_contract)
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Usage").click()
    expect(page.locator(".chart-figure svg")).to_have_count(4)
    expect(page.locator(".stat").filter(has_text="Requests")).to_contain_text(re.compile(r"\d"))
    expect(page.locator(".chart-legend").first).to_contain_text("fake/gpt-test")
    expect(page.locator(".recent tbody tr")).to_have_count(12)
    expect(page.locator(".recent tbody tr").nth(3)).to_contain_text("429")
    requests_chart = page.locator(".chart").first
    requests_chart.focus()
    requests_chart.press("ArrowRight")
    expect(page.locator(".chart-tooltip").first).to_contain_text("fake/gpt-test")


def test_usage_shows_the_calls_just_made(studio: Studio, workspace: Any, fake_upstream: FakeUpstream) -> None:
    add_priced_model(workspace, fake_upstream)
    client = workspace.client(workspace.new_key("router", "usage-test"))
    for text in ("one", "two", "three"):
        client.chat.completions.create(model=ROUTER_ID, messages=[{"role": "user", "content": text}])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="fake/no-such-model", messages=[{"role": "user", "content": "x"}]
        )

    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Usage").click()
    rows = page.locator(".recent tbody tr").filter(has_text=ROUTER_ID)
    deadline = time.monotonic() + 15
    while rows.count() < 3 and time.monotonic() < deadline:  # usage is written in batches
        page.wait_for_timeout(400)
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(300)
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("200")
    expect(page.locator(".stat").filter(has_text="Requests")).to_contain_text(re.compile(r"[3-9]"))
    expect(page.locator(".chart-figure")).to_have_count(4)
    expect(page.locator(".chart-legend").first).to_contain_text(ROUTER_ID)
    studio.screenshot("usage")


def test_sign_out_forgets_the_key(studio: Studio, workspace: Any) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    assert page.evaluate("Object.values(sessionStorage)") == [workspace.admin_key]
    assert page.evaluate("Object.keys(localStorage).length") == 0
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    studio.goto("/studio/keys")
    expect(page).to_have_url(re.compile(r"/studio/sign-in\?next=%2Fkeys$"))

    page.get_by_label("Admin key").fill("rg-not-a-real-key-0000000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This key was not accepted.")).to_be_visible()
    page.get_by_label("Admin key").fill(workspace.admin_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="API keys")).to_be_visible()


def test_keyboard_reaches_the_add_model_form_and_dialogs(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = add_priced_model(workspace, fake_upstream)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    menu_button = page.get_by_role("button", name="Add Model")
    menu_button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=re.compile("^OpenAI-like"))).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu_button).to_be_focused()
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    # The menu moves focus to its first item once it has rendered; a second key
    # pressed before that lands on the button again and closes the menu.
    expect(page.get_by_role("link", name=re.compile("^OpenAI-like"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Add model")).to_be_focused()

    studio.goto(f"/studio/models/{model['id']}")
    delete = page.get_by_role("button", name="Delete")
    delete.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(delete).to_be_focused()
    assert workspace.api("GET", f"/v2/models/{model['id']}").status_code == 200
