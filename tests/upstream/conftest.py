from __future__ import annotations

from .fixtures import *  # noqa: F403
