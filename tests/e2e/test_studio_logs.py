"""The Studio's Logs page and a call's drill-down, in Chromium against a real relaygate:
filters, keyset "Load more", the live tail, body logging on and off, the routing story of a
call that failed over, an unknown model shown by its name. axe-core at desktop and phone
width (no sideways scroll at 390 px)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from playwright.sync_api import expect

from .browser import Studio
from support.server import Workspace
from upstream import Fault
from upstream.fixtures import UpstreamFactory

pytestmark = pytest.mark.serial

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello to Ada"}]


def _checked(studio: Studio, where: str) -> None:
    studio.check_axe(where)
    studio.check_phone(where)


def _applied_until_shown(page: Any, request_id: str) -> Any:
    """Apply the filters again until the call is in the table (the writer stores it within moments)."""
    link = page.get_by_role("link", name=request_id)
    for _ in range(50):
        page.get_by_role("button", name="Apply").click()
        page.wait_for_timeout(200)
        if link.count():
            return link
    raise AssertionError(f"{request_id} never appeared in the log")


def _open_logs(studio: Studio, workspace: Workspace) -> Any:
    page = studio.page
    studio.sign_in(workspace.admin_key)
    page.get_by_role("link", name="Logs", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Logs")).to_be_visible()
    return page


def test_logs_page_filters_pages_and_follows_live(
    studio: Studio, workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    upstream = fake_upstream_factory()
    model = workspace.add_model(upstream, "gpt-test", input_cost="2", output_cost="8")["router_id"]
    client = workspace.client()
    for _ in range(52):
        client.chat.completions.create(model=model, messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-nowhere", messages=MESSAGES)
    page = _open_logs(studio, workspace)
    rows = page.locator("table.log-table tbody tr")
    expect(rows).to_have_count(50)
    first = rows.first
    expect(first).to_contain_text("gpt-nowhere")
    expect(first).to_contain_text("unknown")
    expect(first).to_contain_text("404")
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(53)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    studio.screenshot("logs")
    _checked(studio, "the logs page")

    page.get_by_label("Status").select_option("error")
    expect(rows).to_have_count(1)
    page.get_by_label("Status").select_option("")
    page.get_by_label("Request ID").fill("x" * 80)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#logs-request-id-error")).to_contain_text("request_id")
    expect(page.get_by_label("Request ID")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Request ID").fill("")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(50)

    page.get_by_label("Live").check()
    page.wait_for_timeout(300)  # the tail begins from now
    raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
    live_id = raw.headers["x-request-id"]
    expect(page.locator(f'tr[data-request-id="{live_id}"]')).to_be_visible(timeout=10_000)
    expect(rows.first).to_have_attribute("data-request-id", live_id)
    page.get_by_label("Live").uncheck()

    # Usage shows the unknown model by the name asked for, not "—".
    page.get_by_role("link", name="Usage", exact=True).click()
    recent = page.locator(".recent table tbody tr").filter(has_text="gpt-nowhere")
    expect(recent).to_have_count(1)
    expect(recent).to_contain_text("404")


def test_call_detail_shows_routing_and_bodies_when_logged(
    studio: Studio, workspace: Workspace, fake_upstream_factory: UpstreamFactory
) -> None:
    failing, backup_upstream = fake_upstream_factory(), fake_upstream_factory()
    primary = workspace.add_model(failing, "gpt-test")["router_id"]
    backup = workspace.add_model(backup_upstream, "gpt-test", provider="backup")["router_id"]
    page = _open_logs(studio, workspace)
    switch = page.get_by_label("Keep request and response bodies")
    expect(switch).not_to_be_checked()
    page.get_by_label("Keep bodies for (days)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter a whole number of days from 1 to 3650.")).to_be_visible()
    switch.check()
    page.get_by_label("Keep bodies for (days)").fill("14")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Bodies are kept for 14 days.")).to_be_visible()

    failing.script("/chat/completions", [Fault(status=503)])
    raw = workspace.client().chat.completions.with_raw_response.create(
        model=primary, messages=MESSAGES, extra_body={"fallbacks": [{"model": backup}]}
    )
    request_id = raw.headers["x-request-id"]
    _applied_until_shown(page, request_id).click()
    expect(page.get_by_role("heading", level=1, name="Call")).to_be_visible()
    story = page.locator("table.log-story tbody tr")
    expect(story).to_have_count(2)
    expect(story.nth(0)).to_contain_text("First try")
    expect(story.nth(0)).to_contain_text("503")
    expect(story.nth(1)).to_contain_text("Fallback")
    expect(story.nth(1)).to_contain_text(backup)
    expect(page.locator(".log-body-text").first).to_contain_text('"content": "Say hello to Ada"')
    expect(page.get_by_role("heading", name="Response", exact=True)).to_be_visible()
    studio.screenshot("log-detail")
    _checked(studio, "a call's detail")

    page.get_by_role("link", name="Logs", exact=True).first.click()
    page.get_by_label("Keep request and response bodies").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Bodies are not kept for new calls.")).to_be_visible()
    raw = workspace.client().chat.completions.with_raw_response.create(model=backup, messages=MESSAGES)
    plain_id = raw.headers["x-request-id"]
    _applied_until_shown(page, plain_id).click()
    expect(page.get_by_role("heading", name="Bodies not kept")).to_be_visible()
    _checked(studio, "a call's detail without bodies")
