"""Fixtures for the Studio's end-to-end tests: one Chromium per session, a fresh tab per test.

Screenshots go to ``docs/screenshots/`` when ``RELAYGATE_UPDATE_SCREENSHOTS=1``, otherwise to a
temporary directory (taking them still exercises every page at 1280x800).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, EXPECTED_CONSOLE, VIEWPORT, Studio, require_browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread until it stops, and later tests that call asyncio.run() would find it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright  # a locked test dependency

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots_dir(tmp_path: Path) -> Path:
    if os.environ.get("RELAYGATE_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture
def studio(browser: Any, relaygate: Any, screenshots_dir: Path) -> Iterator[Studio]:
    if httpx.get(f"{relaygate.url}/studio", timeout=10).status_code != 200:
        pytest.fail("relaygate does not serve /studio: add relaygate.studio.studio_routes() to its routes")
    context = browser.new_context(viewport=VIEWPORT, base_url=relaygate.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=relaygate.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    session = Studio(page=page, base_url=relaygate.url, shots=screenshots_dir)

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith(EXPECTED_CONSOLE):
            session.problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: session.problems.append(f"uncaught: {error}"))
    try:
        yield session
    finally:
        context.close()
    # A CSP violation, a failed module import or an uncaught exception all land here.
    assert not session.problems, "\n".join(session.problems)
