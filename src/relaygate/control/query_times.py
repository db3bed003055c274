"""A time in a query string (``from``, ``to``): ISO 8601 or unix seconds, read one way for
every /v2 list (usage, spend, logs, audit), with the same 400 when it is neither."""

from __future__ import annotations

from datetime import UTC, datetime

from relaygate.errors import InvalidRequest

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def query_time(value: str | None, param: str) -> datetime | None:
    """``value`` as an aware UTC time (a naive one is taken as UTC); None when absent."""
    if not value:
        return None
    try:
        moment = (
            datetime.fromtimestamp(float(value), UTC)
            if value.replace(".", "", 1).isdigit()
            else datetime.fromisoformat(value)
        )
        moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise InvalidRequest(
            f"{param} must be a time between 1970 and 9000, in ISO 8601 (2026-11-22T10:00:00Z) "
            "or unix seconds.",
            param=param,
        )
    return moment
