"""The Studio: relaygate's web UI, a client of the public ``/v2`` and ``/v3/router`` APIs.

Add :func:`studio_routes` to the application's routes to serve it at ``/studio``.
"""

from __future__ import annotations

from relaygate.studio.routes import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, studio_routes

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "studio_routes"]
