"""The Studio's Alerts and Audit log pages in a real headless Chromium, against a real relaygate:
create a rule (its secret shown once), send a signed test event to a real receiver, see errors
under their fields, disable and delete it; then read the changes in the audit log, filter them
and open one into its before/after diff. Desktop and phone widths, axe-core on both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from .browser import Studio
from support.webhook_receiver import WebhookReceiver

# A browser's waits are bounded (5 s for an expectation): run alone (scripts/test), not beside other tests.
pytestmark = pytest.mark.serial


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    try:
        yield hook
    finally:
        hook.stop()


def test_create_test_disable_and_delete_an_alert_rule(
    studio: Studio, workspace: Any, receiver: WebhookReceiver
) -> None:
    budget = workspace.api("POST", "/v2/budgets", json={"scope": "workspace", "amount_usd": 5}).json()
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", level=1, name="Alerts")).to_be_visible()
    expect(page.get_by_text("No rules yet")).to_be_visible()

    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text("Enter a name for the rule.")).to_be_visible()
    expect(page.get_by_text("Enter an http:// or https:// address.")).to_be_visible()
    page.get_by_label("Name").fill("Budget at 80%")
    page.get_by_label("Webhook URL").fill(receiver.url)
    page.get_by_label(re.compile(r"^Budget")).select_option(budget["id"])
    page.get_by_label("Fire at (% of the budget)").fill("80")
    page.get_by_role("button", name="Create rule").click()
    secret_heading = page.get_by_role("heading", name=re.compile("Copy the signing secret"))
    expect(secret_heading).to_be_focused()
    secret = page.get_by_label("Signing secret of rule Budget at 80%").input_value()
    assert secret.startswith("whsec_")
    rules = page.get_by_role("table", name="Alert rules of this workspace")
    expect(rules).to_contain_text("Spend reaches 80% of $5.00 monthly budget of the workspace")
    expect(rules).to_contain_text(f"whs…{secret[-4:]}")
    page.get_by_role("button", name="I have stored it").click()
    assert secret not in page.content()

    page.get_by_role("button", name="Send a test event for Budget at 80%").click()
    expect(page.get_by_text("A test event for Budget at 80% was delivered (HTTP 200).")).to_be_visible()
    delivered = receiver.wait_for(lambda body: body["test"] is True)[0]
    assert delivered.headers["x-relaygate-signature"].startswith("t=")
    events = page.get_by_role("table", name="Alert events, newest first")
    expect(events).to_contain_text("Test delivery")
    expect(events).to_contain_text("Delivered")

    # An address the server refuses comes back under its field; a kind shows its own fields.
    page.get_by_label("Kind").select_option("error_rate")
    expect(page.get_by_label("Over the last (minutes)")).to_have_value("5")
    page.get_by_label("Name").fill("Errors")
    page.get_by_label("Webhook URL").fill("http://[::1]:notaport/hook")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_text(re.compile("webhook_url is not a valid URL"))).to_be_visible()
    expect(page.get_by_label("Webhook URL")).to_have_attribute("aria-invalid", "true")

    studio.check_axe("the Alerts page")
    studio.check_phone("the Alerts page")
    studio.screenshot("alerts")

    page.get_by_role("button", name="Disable Budget at 80%").click()
    expect(page.get_by_text("Budget at 80% is disabled.")).to_be_visible()
    expect(rules.get_by_text("Disabled", exact=True)).to_be_visible()
    page.get_by_role("button", name="Delete Budget at 80%").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete rule").click()
    expect(page.get_by_text("Budget at 80% was deleted.")).to_be_visible()
    expect(page.get_by_text("No rules yet")).to_be_visible()
    assert workspace.api("GET", "/v2/alerts/rules").json()["data"] == []


def test_the_audit_log_lists_filters_and_diffs_changes(studio: Studio, workspace: Any) -> None:
    budget = workspace.api("POST", "/v2/budgets", json={"scope": "workspace", "amount_usd": 5}).json()
    workspace.api("PATCH", f"/v2/budgets/{budget['id']}", json={"amount_usd": 9})
    workspace.api("POST", "/v2/api-keys", json={"role": "router", "name": "billing"})
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    entries = page.get_by_role("table", name="Changes made in this workspace, newest first")
    expect(entries.locator("tbody tr")).to_have_count(3)
    expect(entries).to_contain_text("API key")

    page.get_by_label(re.compile(r"^Resource$")).select_option("budget")
    page.get_by_role("button", name="Apply").click()
    expect(entries.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_text("2 changes shown.")).to_be_visible()
    page.get_by_role("button", name=f"View changes of update budget {budget['id']}").focus()
    page.keyboard.press("Enter")  # by keyboard: the diff opens and takes the focus
    detail = page.get_by_role("region", name=f"Changed Budget {budget['id']}")
    expect(detail.get_by_role("heading", level=2)).to_be_focused()
    diff = detail.get_by_role("table")
    changed = diff.get_by_role("row", name=re.compile("amount_usd"))
    expect(changed).to_contain_text("5")
    expect(changed).to_contain_text("9")
    expect(diff).not_to_contain_text("scope")  # unchanged fields are hidden ...
    studio.screenshot("audit")
    detail.get_by_label("Show unchanged fields").check()
    expect(diff).to_contain_text("scope")  # ... until asked for

    studio.check_axe("the Audit log page")
    studio.check_phone("the Audit log page")

    page.get_by_label("From").fill("2030-01-02")
    page.get_by_label("To").fill("2030-01-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Choose a day on or after the From day.")).to_be_visible()
    expect(page.get_by_label("To")).to_be_focused()
