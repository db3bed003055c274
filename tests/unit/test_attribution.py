"""``usage.identity.Attribution``: who a call was made for, validated once when it is prepared."""

from __future__ import annotations

from typing import Any

import pytest

from relaygate.errors import InvalidRequest
from relaygate.usage.identity import MAX_PAIRS, NOBODY, Attribution


def test_no_fields_and_no_header_is_nobody() -> None:
    assert Attribution.of({}, None) is NOBODY


def test_every_field_is_kept() -> None:
    who = Attribution.of(
        {
            "identity": {
                "id": "u-1",
                "display_name": "Ada",
                "email": "ada@example.com",
                "metadata": {"tier": 2},
            },
            "thread": {"id": "t-1", "tags": ["a", "b"]},
            "name": "greeting",
            "metadata": {"env": "prod", "n": 1.5},
        },
        None,
    )
    assert who.identity == {
        "id": "u-1",
        "display_name": "Ada",
        "email": "ada@example.com",
        "metadata": {"tier": "2"},
    }
    assert (who.identity_id, who.thread_id, who.thread_tags, who.name) == (
        "u-1",
        "t-1",
        ("a", "b"),
        "greeting",
    )
    assert who.metadata == {"env": "prod", "n": "1.5"}


def test_an_identity_may_be_just_its_id_or_come_from_the_header() -> None:
    assert Attribution.of({"identity": "u-2"}, None).identity == {"id": "u-2"}
    from_header = Attribution.of({}, b" u-3 ")
    assert (from_header.identity, from_header.identity_id) == (None, "u-3")
    assert Attribution.of({"identity": "u-4"}, b"u-5").identity_id == "u-4"  # the body wins


@pytest.mark.parametrize(
    ("routing", "param"),
    [
        ({"identity": 7}, "identity"),
        ({"identity": {"id": ""}}, "identity.id"),
        ({"identity": {"id": "u", "email": "x" * 321}}, "identity.email"),
        ({"thread": "t-1"}, "thread"),
        ({"thread": {"id": "t", "tags": "a"}}, "thread.tags"),
        ({"thread": {"id": "t", "tags": [1]}}, "thread.tags"),
        ({"name": ""}, "name"),
        ({"metadata": ["a"]}, "metadata"),
        ({"metadata": {str(n): "v" for n in range(MAX_PAIRS + 1)}}, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
        ({"metadata": {"k": True}}, "metadata.k"),
        ({"metadata": {"k": "v" * 513}}, "metadata.k"),
    ],
)
def test_a_bad_shape_is_a_400_that_names_the_field(routing: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        Attribution.of(routing, None)
    assert refused.value.param == param


def test_a_header_identity_is_bounded() -> None:
    with pytest.raises(InvalidRequest) as refused:
        Attribution.of({}, b"x" * 129)
    assert refused.value.param == "x-relaygate-identity"
