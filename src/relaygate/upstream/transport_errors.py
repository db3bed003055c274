"""What can go wrong on the way to an upstream, as relaygate's own exceptions.

pyreqwest's errors are translated here (``translated``), once, so nothing else depends on
the client library's exception types. Messages name the URL and the OS error, never
headers or bodies.
"""

from __future__ import annotations

from pyreqwest.exceptions import DetailedPyreqwestError, PyreqwestError, RequestTimeoutError


class TransportError(Exception):
    """The upstream could not be reached or did not answer in time.

    TransportError
     +-- ConnectFailed      (no connection: refused, reset, DNS, TLS)
     +-- TimedOut           (connect, read or total deadline passed)
     +-- ResponseTooLarge   (answer bigger than its bound)
    """


class ConnectFailed(TransportError):
    """``cause``: ``refused``, ``dns``, ``tls``, ``reset``, or ``""`` when not known."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause


class TimedOut(TransportError):
    pass


class ResponseTooLarge(TransportError):
    """The upstream's answer passed a size bound (RELAYGATE_MAX_UPSTREAM_BODY_BYTES, _STREAM_MAX_BYTES)."""


# (cause, words in the innermost error that name it), checked in order.
_CONNECT_CAUSES = (
    ("refused", ("connection refused",)),
    ("dns", ("dns error", "lookup address", "name or service not known", "nodename nor servname")),
    ("reset", ("connection reset", "broken pipe")),
    ("tls", ("tls", "ssl", "certificate", "handshake", "corrupt message", "alert")),
)


def _connect_failure(exc: PyreqwestError) -> ConnectFailed:
    found = exc.details.get("causes") if isinstance(exc, DetailedPyreqwestError) else None
    causes = [cause["message"] for cause in found or ()]
    text = " / ".join(causes).lower()
    cause = next((name for name, words in _CONNECT_CAUSES if any(word in text for word in words)), "")
    innermost = causes[-1] if causes else ""
    return ConnectFailed(f"{exc.message}: {innermost}" if innermost else exc.message, cause)


def translated(exc: PyreqwestError) -> TransportError:
    # pyreqwest's messages name the URL and the OS error, never headers or bodies.
    if isinstance(exc, RequestTimeoutError):
        return TimedOut(exc.message)
    return _connect_failure(exc)
