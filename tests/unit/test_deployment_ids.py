"""ULIDs: 26 Crockford characters that sort as the moments they were made."""

from __future__ import annotations

from relaygate.deployments.ids import CROCKFORD, encode, is_ulid, new_ulid


def test_encoding_is_crockford_base32_of_the_128_bits() -> None:
    assert encode(0) == "0" * 26
    assert encode((1 << 128) - 1) == "7" + "Z" * 25
    assert encode(31) == "0" * 25 + "Z"
    assert encode(32) == "0" * 24 + "10"
    assert set(CROCKFORD).isdisjoint("ILOU")


def test_ids_are_valid_and_sort_by_creation() -> None:
    made = [new_ulid() for _ in range(2000)]
    assert all(is_ulid(ulid) for ulid in made)
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_other_text_is_no_ulid() -> None:
    for text in ("", "0" * 25, "8" + "0" * 25, "0" * 25 + "U", "0" * 27, "01jj1hdhn79xas7a01wb3hysdb"):
        assert not is_ulid(text)
