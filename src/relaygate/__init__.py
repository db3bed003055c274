"""relaygate: a self-hosted AI Router with one OpenAI-compatible endpoint for every model."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
