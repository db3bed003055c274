"""The Studio's Spend page, key editing (limits, budget, expiry, allowed models), budgets, and
the shell (the phone header, a page that cannot be fetched), in Chromium against a real relaygate.

Every page is checked by axe-core at desktop and phone width (no sideways scroll at 390 px).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openai
import pytest
from playwright.sync_api import expect

from .browser import PHONE, Studio
from support.server import Workspace
from upstream.fixtures import UpstreamFactory

pytestmark = pytest.mark.serial

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
ANSWER_WORDS = 500  # the fake counts a word as a token: $0.004 of output at $8 per 1M


def _checked(studio: Studio, where: str) -> None:
    studio.check_axe(where)
    studio.check_phone(where)


def _traffic(workspace: Workspace, fake_upstream_factory: UpstreamFactory) -> dict[str, Any]:
    """A key whose $0.005 daily budget took one call and refused the next (a real 429)."""
    upstream = fake_upstream_factory(reply=" ".join(["word"] * ANSWER_WORDS))
    priced = workspace.add_model(upstream, "gpt-test", input_cost="2", output_cost="8")["router_id"]
    other = workspace.add_model(upstream, "gpt-test", provider="other", input_cost="0", output_cost="0")[
        "router_id"
    ]
    tiny = workspace.api(
        "POST", "/v2/api-keys", json={"name": "tiny", "budget": {"amount_usd": "0.005", "period": "day"}}
    ).json()
    client = workspace.client(tiny["key"])
    client.chat.completions.create(model=priced, messages=MESSAGES, max_tokens=600)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=priced, messages=MESSAGES, max_tokens=600)
    workspace.client().chat.completions.create(
        model=other, messages=MESSAGES, extra_body={"identity": {"id": "u-7"}}
    )
    return {"priced": priced, "other": other, "tiny": tiny}


def test_keys_page_shows_refusals_and_edits_limits_budget_expiry_and_models(
    studio: Studio, workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    made = _traffic(workspace, fake_upstream_factory)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="API keys").click()
    row = page.get_by_role("row").filter(has_text="tiny")
    expect(row).to_contain_text("of $0.005 per day")
    expect(row).to_contain_text("Near limit")
    expect(row).to_contain_text("1 call refused by a budget")
    _checked(studio, "the keys page")

    row.get_by_role("button", name="Edit tiny").click()
    dialog = page.get_by_role("dialog", name="Edit tiny")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Requests per minute").fill("0")
    dialog.get_by_label("Only the models ticked below").check()
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_text("Enter a whole number from 1 to 1,000,000,000")).to_be_visible()
    dialog.get_by_label("Requests per minute").fill("30")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.get_by_text("Tick at least one model, or choose every model.")).to_be_visible()
    dialog.get_by_label(made["other"], exact=True).check()
    dialog.get_by_label("Budget (USD)").fill("1")
    expires = (datetime.now() + timedelta(days=10)).replace(second=0, microsecond=0)
    dialog.get_by_label("Key expires").fill(expires.strftime("%Y-%m-%dT%H:%M"))
    studio.screenshot("keys-edit")
    _checked(studio, "the key editing dialog")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Changes to tiny were saved")).to_be_visible()
    expect(row).to_contain_text("30 req/min")
    expect(row).to_contain_text(f"Only {made['other']}")
    expect(row).to_contain_text("Expires")
    expect(row).to_contain_text("of $1.00 per day")

    (key,) = [k for k in workspace.api("GET", "/v2/api-keys").json()["data"] if k["name"] == "tiny"]
    assert key["allowed_models"] == [made["other"]]
    assert key["limits"] == {"requests_per_minute": 30}
    assert datetime.fromisoformat(key["expires_at"]).timestamp() == pytest.approx(expires.timestamp())
    client = workspace.client(made["tiny"]["key"])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=made["priced"], messages=MESSAGES)
    assert client.chat.completions.create(model=made["other"], messages=MESSAGES).choices

    # Back to every model.
    row.get_by_role("button", name="Edit tiny").click()
    dialog.get_by_label("Every model of the workspace").check()
    dialog.get_by_role("button", name="Save changes").click()
    expect(row).not_to_contain_text("Only ")
    (key,) = [k for k in workspace.api("GET", "/v2/api-keys").json()["data"] if k["name"] == "tiny"]
    assert "allowed_models" not in key

    # A key made with an expiry says when it ends.
    create = page.get_by_role("form", name="Create a key")
    create.get_by_label("Name").fill("dated")
    create.get_by_label("Key expires").fill(expires.strftime("%Y-%m-%dT%H:%M"))
    create.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key-secret")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="dated")).to_contain_text("Expires")
    (dated,) = [k for k in workspace.api("GET", "/v2/api-keys").json()["data"] if k["name"] == "dated"]
    assert datetime.fromisoformat(dated["expires_at"]).timestamp() == pytest.approx(expires.timestamp())


def test_spend_page_tables_csv_and_budgets(
    studio: Studio, workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    made = _traffic(workspace, fake_upstream_factory)
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Spend").click()
    expect(page.get_by_role("heading", level=1, name="Spend")).to_be_visible()
    by_key = page.get_by_role("region", name="By API key")
    tiny = by_key.get_by_role("row").filter(has_text="tiny")
    expect(tiny).to_contain_text("Near limit")
    expect(tiny).to_contain_text("1 (1 budget)")
    expect(tiny).to_have_class("row-near-limit")
    expect(
        page.get_by_role("region", name="By model").get_by_role("row").filter(has_text=made["priced"])
    ).to_contain_text("1 (1 budget)")
    expect(page.get_by_role("region", name="By identity")).to_contain_text("u-7")
    expect(page.get_by_role("region", name="By deployment")).to_contain_text("(not through a deployment)")
    expect(page.get_by_role("status").filter(has_text="1 budget near its limit")).to_be_visible()

    with page.expect_download() as download:
        by_key.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "spend-by-key.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("group_by,group,name,spend_usd")
    assert "tiny" in text

    # Budgets: an identity budget needs its identity; add, edit, delete.
    budgets = page.get_by_role("region", name="Budgets")
    form = budgets.get_by_role("form", name="Add a budget")
    form.get_by_label("Applies to").select_option("identity")
    form.get_by_label("Budget (USD)").fill("2")
    form.get_by_role("button", name="Add budget").click()
    expect(form.get_by_text("Enter the identity this budget is for.")).to_be_visible()
    form.get_by_label("Identity").fill("u-7")
    form.get_by_label("Period").select_option("week")
    form.get_by_role("button", name="Add budget").click()
    expect(budgets.get_by_role("status").filter(has_text="The budget was added")).to_be_visible()
    budget_row = budgets.get_by_role("row").filter(has_text="u-7")
    expect(budget_row).to_contain_text("of $2.00 per week")
    expect(
        page.get_by_role("region", name="By identity").get_by_role("row").filter(has_text="u-7")
    ).to_contain_text("of $2.00 per week")
    studio.screenshot("spend")
    _checked(studio, "the spend page")

    budget_row.get_by_role("button", name="Edit budget: Identity u-7").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Budget (USD)").fill("3")
    dialog.get_by_label("Requests per minute").fill("20")
    dialog.get_by_role("button", name="Save budget").click()
    expect(budget_row).to_contain_text("of $3.00 per week")
    expect(budget_row).to_contain_text("20 req/min")
    stored = [b for b in workspace.api("GET", "/v2/budgets").json()["data"] if b.get("subject_id") == "u-7"]
    assert (stored[0]["amount_usd"], stored[0]["requests_per_minute"]) == (3, 20)

    budget_row.get_by_role("button", name="Delete budget: Identity u-7").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete budget").click()
    expect(budgets.get_by_role("status").filter(has_text="was deleted")).to_be_visible()
    expect(budgets.get_by_role("row").filter(has_text="u-7")).to_have_count(0)
    assert not [b for b in workspace.api("GET", "/v2/budgets").json()["data"] if b.get("subject_id") == "u-7"]


def test_phone_header_is_one_line_with_a_menu(studio: Studio, workspace: Workspace) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.set_viewport_size(PHONE)
    header = page.locator(".sidebar")
    box = header.bounding_box()
    assert box is not None
    assert box["height"] <= 64, box
    nav = page.get_by_role("navigation", name="Studio")
    expect(nav).to_be_hidden()
    toggle = page.get_by_role("button", name="Menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    studio.check_axe("the phone menu, open")
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    nav.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", level=1, name="API keys")).to_be_visible()
    expect(nav).to_be_hidden()  # the menu folds again on the next page
    # The keys table keeps its name and actions in view and says it scrolls.
    row = page.get_by_role("row").nth(1)
    for button in ("Edit", "Revoke"):
        box = row.get_by_role("button", name=button).bounding_box()
        assert box is not None
        assert box["x"] >= 0, (button, box)
        assert box["x"] + box["width"] <= PHONE["width"], (button, box)
    status = row.get_by_text("Active").bounding_box()
    assert status is not None
    assert status["x"] + status["width"] <= PHONE["width"]
    expect(page.locator(".table-wrap[data-scroll='more']")).to_have_count(1)


def test_a_page_that_cannot_be_fetched_says_relaygate_is_unreachable(
    studio: Studio, workspace: Workspace
) -> None:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.route("**/pages/keys.js*", lambda route: route.abort())
    page.get_by_role("link", name="API keys").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Cannot reach relaygate")
    expect(alert).not_to_contain_text("dynamically imported module")
    studio.check_axe("the unreachable page")
    page.unroute("**/pages/keys.js*")
    alert.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", level=2, name="Create a key")).to_be_visible()
