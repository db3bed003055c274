"""Serving the Studio: one HTML page, its assets, and the headers that lock both down.

The Studio is a single-page app of hand-written ES modules, so serving it is small:

* ``/studio`` and every path under it that is not an asset answer the same
  ``index.html`` (the app's router reads the path in the browser);
* ``/studio/assets/<version>/<file>`` answers a file of ``static/``; ``<version>`` is a
  hash of the whole directory, so an asset URL names exactly one content and may be cached
  for a year, while ``index.html`` is revalidated on every load (``no-cache`` + ETag).

The files are read once, when the routes are built: the whole directory is a few dozen
kilobytes, and serving from memory keeps a request free of disk I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

STATIC_DIR = Path(__file__).parent / "static"
STUDIO_PATH = "/studio"
ASSETS_PATH = "/studio/assets"
ASSET_BASE_PLACEHOLDER = b"{{ASSET_BASE}}"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _load(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.suffix in MEDIA_TYPES
    }


def _version(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, body in files.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    return digest.hexdigest()[:12]


class StudioFiles:
    """The Studio's files held in memory, and the two endpoints that serve them."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        files = _load(directory)
        if "index.html" not in files:
            raise FileNotFoundError(f"the Studio's index.html is missing from {directory}")
        self.version = _version(files)
        self.assets = {
            name: Asset(body, MEDIA_TYPES[Path(name).suffix], _etag(body)) for name, body in files.items()
        }
        page = files["index.html"].replace(ASSET_BASE_PLACEHOLDER, f"{ASSETS_PATH}/{self.version}".encode())
        self.index = Asset(page, MEDIA_TYPES[".html"], _etag(page))

    async def page(self, request: Request) -> Response:
        """Any Studio path that is not an asset: the app decides in the browser what to show."""
        return _send(request, self.index, REVALIDATE)

    async def asset(self, request: Request) -> Response:
        version = request.path_params["version"]
        asset = self.assets.get(request.path_params["path"])
        if asset is None:
            return not_found()
        # An old version's URL still gets today's file, but must not be cached as if it were the old one.
        return _send(request, asset, IMMUTABLE if version == self.version else REVALIDATE)

    async def missing(self, request: Request) -> Response:
        return not_found()


def _send(request: Request, asset: Asset, cache_control: str) -> Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": asset.etag}
    if asset.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    response = Response(body, media_type=asset.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(asset.body))
    return response


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def not_found() -> Response:
    return Response(
        b"Not found\n",
        status_code=404,
        media_type=MEDIA_TYPES[".txt"],
        headers={**SECURITY_HEADERS, "Cache-Control": REVALIDATE},
    )


def studio_routes(directory: Path = STATIC_DIR) -> list[BaseRoute]:
    """The routes that serve the Studio under ``/studio``; add them to the application's routes."""
    files = StudioFiles(directory)
    methods = ["GET", "HEAD"]
    return [
        Route(STUDIO_PATH, files.page, methods=methods, name="studio"),
        Route(ASSETS_PATH + "/{version}/{path:path}", files.asset, methods=methods, name="studio_asset"),
        Route(ASSETS_PATH + "/{path:path}", files.missing, methods=methods),
        Route(STUDIO_PATH + "/{path:path}", files.page, methods=methods),
    ]
