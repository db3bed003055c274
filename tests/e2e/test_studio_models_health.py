"""The Studio's model screens tell the truth: live health and the breaker in the list and
detail, a failed validation shown as a past check, periodic health checks, errors under the
field they are about, capability claims the upstream did not confirm, and the phone layout.

Each test fails on the Studio before model health (issue 25): it showed "Enabled / Passed" for
a model whose upstream was down, "Failed" forever after one failed re-validation, and so on.
"""

from __future__ import annotations

import re
from typing import Any

import openai
import pytest
from playwright.sync_api import Page, expect

from .browser import PHONE, Studio
from support.usage_events import usage_events
from upstream import FakeUpstream, Fault

pytestmark = pytest.mark.serial

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


def _call(workspace: Any, router_id: str) -> int:
    try:
        workspace.client().chat.completions.create(model=router_id, messages=MESSAGES)
    except openai.APIStatusError as error:
        return int(error.status_code)
    return 200


def _row(page: Page, name: str) -> Any:
    return page.get_by_role("row").filter(has_text=name)


def _check_row(page: Page, name: str) -> Any:
    return page.locator(".check").filter(has=page.locator(".check-name", has_text=re.compile(f"^{name}$")))


def _fill(page: Page, upstream: FakeUpstream, *, base_url: str | None = None, provider: str = "fake") -> None:
    form = page.get_by_role("form", name="OpenAI-like model")
    form.get_by_label("Type").select_option(label="Chat Completion")
    form.get_by_label("Base URL").fill(base_url or upstream.url)
    form.get_by_label("API Key").fill(upstream.api_key or "unused")
    form.get_by_label("Model Name").fill("Health GPT")
    form.get_by_label("Model ID").fill("gpt-test")
    form.get_by_label("Region").select_option(label="United States")
    form.get_by_label("Provider slug").fill(provider)


def _field_error(page: Page, label: str) -> Any:
    return (
        page.locator(".field")
        .filter(has=page.get_by_label(re.compile(f"^{re.escape(label)}")))
        .locator(".field-error")
    )


def test_a_model_whose_upstream_is_down_shows_failing_and_the_open_breaker(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test", display_name="Down GPT")
    assert _call(workspace, model["router_id"]) == 200
    fake_upstream.script("/chat/completions", [Fault(status=502)] * 5)
    statuses = [_call(workspace, model["router_id"]) for _ in range(6)]
    assert statuses == [502] * 5 + [503]  # the breaker opened after 5 failures in a row
    usage_events(workspace, 7)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    row = _row(page, "Down GPT")
    expect(row).to_contain_text("Breaker open")
    expect(row.locator(".health-cell")).not_to_contain_text("Healthy")
    studio.check_axe("the models list with health")

    page.get_by_role("link", name="Down GPT").click()
    expect(page.locator(".header-meta")).to_contain_text("Breaker open")
    card = page.locator(".health-card")
    expect(card.locator(".health-state")).to_contain_text("Breaker open")
    expect(card).to_contain_text("the circuit breaker is open")
    expect(card).to_contain_text("Open (calls skip this upstream)")
    expect(card.locator(".health-windows")).to_contain_text("5 min")
    expect(card).to_contain_text("circuit_open")  # the last error, once the usage writer stored it
    studio.check_axe("the model detail with health")
    studio.check_phone("the model detail with health")


def test_a_failed_validation_is_a_past_check_and_health_is_live(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test", display_name="Recovered GPT")
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto(f"/studio/models/{model['id']}")
    fake_upstream.script("/models", [Fault(status=401)])
    page.get_by_role("button", name="Re-validate").click()
    expect(page.locator(".checks-status")).to_have_text("Validation failed.")
    expect(page.locator(".validation-status")).to_contain_text("Failed")
    expect(page.locator(".validation-status")).to_contain_text("checked just now")

    # The upstream recovered: calls pass; the validation stays a dated past check, health says ok.
    for _ in range(3):
        assert _call(workspace, model["router_id"]) == 200
    usage_events(workspace, 3)  # recorded (and so counted) before the page asks
    page.reload()
    expect(page.locator(".validation-status")).to_contain_text("checked just now")
    expect(page.locator(".validation-status")).to_contain_text("The result of that check")
    expect(page.locator(".health-card .health-state")).to_contain_text("Healthy")
    expect(page.locator(".header-meta")).to_contain_text("Healthy")
    studio.screenshot("model-health")
    page.get_by_role("link", name="Models", exact=True).first.click()
    row = _row(page, "Recovered GPT")
    expect(row.locator(".health-cell")).to_contain_text("Healthy")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("just now")  # the failed validation's time, not a live state


def test_periodic_health_checks_from_the_detail(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test", display_name="Checked GPT")
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto(f"/studio/models/{model['id']}")
    form = page.get_by_role("form", name="Periodic health check")
    expect(form).to_be_visible()
    form.get_by_label("Run a periodic health check").check()
    form.get_by_label("Every (seconds)").fill("10")
    form.get_by_role("button", name="Save health check").click()
    expect(_field_error(page, "Every (seconds)")).to_contain_text("from 30 to 86400")
    form.get_by_label("Every (seconds)").fill("30")
    form.get_by_role("button", name="Save health check").click()
    expect(form.locator(".form-status")).to_contain_text("a check runs now, then every 30 s")

    checks = page.locator(".health-checks .health-check")
    for _ in range(40):
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(250)
        if checks.count():
            break
    expect(checks.first).to_contain_text("Passed")
    expect(checks.first).to_contain_text("answered HTTP 200")
    expect(page.locator(".health-card")).to_contain_text("Every 30 s")
    studio.check_axe("the health check setting")


def test_add_model_errors_sit_under_the_field_they_concern(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto("/studio/models/new/openai-like")
    _fill(page, fake_upstream, base_url=fake_upstream.url + "/models")
    page.get_by_role("button", name="Add Model").click()
    expect(_field_error(page, "Base URL")).to_contain_text("the base URL is the API root")
    expect(_field_error(page, "Model ID")).to_have_text("")
    expect(page.get_by_label("Base URL")).to_be_focused()
    expect(_check_row(page, "Connectivity")).to_have_class(re.compile("check-failed"))

    # A hanging upstream: the connectivity step fails with a time-out, under Base URL.
    fake_upstream.script("/models", [Fault(delay=12)])
    page.get_by_label("Base URL").fill(fake_upstream.url)
    page.get_by_role("button", name="Add Model").click()
    expect(_check_row(page, "Connectivity")).to_have_class(re.compile("check-failed"), timeout=20_000)
    expect(_check_row(page, "Connectivity")).to_contain_text("Timed out")
    expect(_field_error(page, "Base URL")).to_contain_text("did not answer GET /models")
    expect(_field_error(page, "Model ID")).to_have_text("")

    # A name already taken: refused before any check; the steps do not claim a failed validation.
    workspace.add_model(fake_upstream, "gpt-test")
    page.get_by_role("button", name="Add Model").click()
    expect(_field_error(page, "Model ID")).to_contain_text("already exists")
    expect(page.locator(".checks-status")).to_have_text("Not validated: nothing was checked.")
    expect(page.get_by_text("Validation failed")).to_have_count(0)
    studio.check_axe("the add model form with errors")


def test_a_claim_the_upstream_did_not_confirm_can_be_saved_anyway(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    studio.goto("/studio/models/new/openai-like")
    _fill(page, fake_upstream)
    page.get_by_label("Vision").check()
    # The minimal call passes; the 1-pixel image is refused.
    fake_upstream.script("/chat/completions", [Fault(), Fault(status=400)])
    page.get_by_role("button", name="Add Model").click()
    decision = page.locator(".claims-decision")
    expect(decision).to_contain_text("Health GPT was added")
    expect(decision).to_contain_text("Vision")
    studio.check_axe("the claims decision")
    page.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_role("heading", level=1, name="Health GPT")).to_be_visible()
    expect(page.locator(".flash-slot")).to_contain_text("Kept on without the upstream confirming it: Vision")
    listed = workspace.api("GET", "/v2/models").json()["data"]
    assert listed[0]["metadata"]["supports_vision"] is True

    # The other choice: the claim stays off, and the flash says so.
    studio.goto("/studio/models/new/openai-like")
    _fill(page, fake_upstream, provider="other")
    page.get_by_label("Vision").check()
    fake_upstream.script("/chat/completions", [Fault(), Fault(status=400)])
    page.get_by_role("button", name="Add Model").click()
    page.get_by_role("button", name="Continue with it off").click()
    expect(page.locator(".flash-slot")).to_contain_text(
        "Switched off because the upstream did not confirm it: Vision"
    )
    expect(page.locator(".flash-slot")).not_to_contain_text("added and validated. Call")


def test_on_a_phone_the_steps_come_before_the_button_and_code_stays_in_its_box(
    studio: Studio, workspace: Any, fake_upstream: FakeUpstream
) -> None:
    model = workspace.add_model(fake_upstream, "gpt-test", display_name="Phone GPT")
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.set_viewport_size(PHONE)
    studio.goto("/studio/models/new/openai-like")
    steps = page.locator(".checklist").bounding_box()
    button = page.get_by_role("button", name="Add Model").bounding_box()
    assert steps is not None
    assert button is not None
    assert steps["y"] + steps["height"] <= button["y"], "the validation steps sit above the submit button"
    studio.goto(f"/studio/models/{model['id']}")
    expect(page.get_by_role("tab", name="Python")).to_be_visible()
    for tab in ("curl", "Python", "TypeScript"):
        page.get_by_role("tab", name=tab).click()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the {tab} snippet makes the page {overflow} px wider than the phone"
    code = page.locator(".tab-panel:not([hidden]) .code-block pre")
    box = code.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    studio.check_phone("the model detail")
    studio.goto(f"/studio/models/{model['id']}/edit")
    steps = page.locator(".checklist").bounding_box()
    button = page.get_by_role("button", name="Save changes").bounding_box()
    assert steps is not None
    assert button is not None
    assert steps["y"] + steps["height"] <= button["y"]
