"""The Studio's end-to-end tests drive Debian's Chromium through Playwright: where it is, how it is
launched, and a small handle on one browser tab.

Browsers cannot be downloaded here, so Playwright launches the system Chromium
(``/usr/bin/chromium``, or ``RELAYGATE_E2E_CHROMIUM``; ``scripts/test`` installs it). Without it
the tests fail, saying how to install it: a skip would hide the Studio's regressions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("RELAYGATE_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# axe-core, the accessibility checker, from tests/node (scripts/lib.sh ensure_node_packages).
AXE = Path(__file__).resolve().parents[1] / "node" / "node_modules" / "axe-core" / "axe.min.js"
# Chromium logs every non-2xx fetch as a console error; the Studio shows those in words itself.
EXPECTED_CONSOLE = ("Failed to load resource",)


def require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium (scripts/test does)")


@dataclass
class Studio:
    """A fresh browser tab on a relaygate server, with what went wrong inside it recorded."""

    page: Any
    base_url: str
    shots: Path
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def sign_in(self, key: str) -> None:
        from playwright.sync_api import expect

        self.goto("/studio/sign-in")
        self.page.get_by_label("Admin key").fill(key)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", level=1, name="Models")).to_be_visible()

    def check_axe(self, where: str) -> None:
        """axe-core finds nothing on the page: WCAG 2.1 A and AA (contrast included), best practices."""
        if not AXE.exists():
            pytest.fail(f"axe-core is missing at {AXE}: npm ci --prefix tests/node (scripts/test does)")
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Through the driver: the page's CSP lets no inline script in.
            self.page.evaluate(AXE.read_text())
        found = self.page.evaluate(
            "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
            " 'best-practice']})).violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}x: `"
            " + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ') + ')')"
        )
        assert not found, f"axe found problems on {where}:\n" + "\n".join(found)

    def check_phone(self, where: str) -> None:
        """At a phone's width (390 px) the page does not scroll sideways, and axe finds nothing."""
        size = self.page.viewport_size
        self.page.set_viewport_size(PHONE)
        try:
            self.page.wait_for_timeout(100)
            overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{where} scrolls sideways by {overflow} px at {PHONE['width']} px"
            self.check_axe(f"{where} at {PHONE['width']} px")
        finally:
            self.page.set_viewport_size(size)

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path))
        return path
