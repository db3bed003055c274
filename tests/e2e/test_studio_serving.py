"""How relaygate serves the Studio: the page, its assets, caching and the security headers.

No browser needed: these run wherever the relaygate fixture runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from relaygate.studio import CONTENT_SECURITY_POLICY, SECURITY_HEADERS

STATIC = Path(__file__).resolve().parents[2] / "src" / "relaygate" / "studio" / "static"
UNSAFE_DOM = re.compile(r"\beval\(|new Function\(|\.(inner|outer)HTML\s*=|insertAdjacentHTML")
ASSET_BASE = re.compile(r'href="(/studio/assets/[0-9a-f]{12})/style\.css"')


def get(relaygate: Any, path: str, **headers: str) -> httpx.Response:
    return httpx.get(relaygate.url + path, headers=headers, timeout=10)


def assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def asset_base(relaygate: Any) -> str:
    found = ASSET_BASE.search(get(relaygate, "/studio").text)
    assert found, "index.html names no versioned stylesheet"
    return found.group(1)


@pytest.mark.parametrize(
    "path", ["/studio", "/studio/", "/studio/models", "/studio/models/abc/edit", "/studio/usage"]
)
def test_every_studio_path_answers_the_app(relaygate: Any, path: str) -> None:
    response = get(relaygate, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert '<script type="module"' in response.text
    assert "{{ASSET_BASE}}" not in response.text
    assert_secured(response)


def test_the_policy_forbids_inline_code_and_framing(relaygate: Any) -> None:
    policy = get(relaygate, "/studio").headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("pages/models.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_assets_have_their_type_and_are_cached_by_version(relaygate: Any, name: str, media_type: str) -> None:
    response = get(relaygate, f"{asset_base(relaygate)}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == (STATIC / name).read_bytes()
    assert_secured(response)

    again = get(relaygate, f"{asset_base(relaygate)}/{name}", **{"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_an_old_version_is_served_but_not_cached(relaygate: Any) -> None:
    response = get(relaygate, "/studio/assets/000000000000/app.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/studio/assets/000000000000/missing.js",
        "/studio/assets/app.js",
        "/studio/assets/x/%2e%2e/%2e%2e/routes.py",  # files are looked up in memory, never on disk
    ],
)
def test_a_missing_asset_is_a_404_not_the_app(relaygate: Any, path: str) -> None:
    response = get(relaygate, path)
    assert response.status_code == 404
    assert "<script" not in response.text
    assert_secured(response)


def test_the_page_loads_no_third_party_resource(relaygate: Any) -> None:
    page = get(relaygate, "/studio").text
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for path in STATIC.rglob("*.js"):
        code = path.read_text()
        assert not re.search(r"""(from\s*|import\s*\(\s*)['"](https?:)?//""", code), path  # no CDN modules
        assert not UNSAFE_DOM.search(code), path
