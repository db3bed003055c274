"""ULIDs: the 26-character ids of deployments and their versions.

The hosted product's SDKs and documents use ULIDs (``01JJ1HDHN79XAS7A01WB3HYSDB``) and
page lists by them, so ids sort by creation: a UUIDv7 (48 bits of milliseconds, then
randomness, monotonic within a process) written as 26 Crockford base32 characters, whose
order is the UUID's order.
"""

from __future__ import annotations

import re

from uuid_utils import uuid7

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_LENGTH = 26
ULID_PATTERN = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def encode(value: int) -> str:
    """A 128-bit number as 26 Crockford base32 characters (the first carries 3 bits)."""
    if not 0 <= value < 1 << 128:
        raise ValueError("a ULID is a 128-bit number")
    chars = []
    for _ in range(ULID_LENGTH):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_ulid() -> str:
    return encode(int.from_bytes(uuid7().bytes, "big"))


def is_ulid(text: str) -> bool:
    return ULID_PATTERN.match(text) is not None
