"""One log format for both servers and relaygate's own lines: ``INFO:     message``."""

from __future__ import annotations

import copy
from typing import Any

FORMATTER = {
    "()": "uvicorn.logging.DefaultFormatter",
    "fmt": "%(levelprefix)s %(message)s",
    "use_colors": False,
}


def logger_entry(level: str) -> dict[str, Any]:
    return {"handlers": ["default"], "level": level.upper(), "propagate": False}


def granian_config(level: str) -> dict[str, Any]:
    """granian's dictConfig: its own lines (``_granian``) and relaygate's, to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": FORMATTER},
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {"_granian": logger_entry(level), "relaygate": logger_entry(level)},
    }


def uvicorn_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, plus relaygate's own loggers at the same level and in the
    same format (without this, their info lines went nowhere and warnings came bare)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["relaygate"] = logger_entry(level)
    return config
