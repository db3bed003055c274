"""One datapoint as a client sends it (``DatapointInput``), checked and normalised.

A datapoint holds ``inputs`` (template variables), ``messages`` (a chat) and an
``expected_output`` (the reference answer), each optional. What is stored is the
normalised form: only the fields that have a value (the Node SDK rejects ``null`` for
each of them, so an absent field stays absent). The read-only fields of a datapoint
object (``_id``, ``created``...) are accepted and dropped, so a file exported by the
hosted product imports as it is; any other field is a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .messages import check_messages
from .problems import InvalidDatapoint, at, type_name

FIELDS = ("inputs", "messages", "expected_output")
# A stored datapoint object's own fields: what an export of the hosted product carries.
READ_ONLY_FIELDS = frozenset(
    {
        "_id",
        "id",
        "dataset_id",
        "workspace_id",
        "created",
        "updated",
        "created_by_id",
        "updated_by_id",
        "evaluations",
        "snapshot_version",
    }
)
MAX_INPUTS = 256
MAX_INPUT_NAME = 256

Datapoint = dict[str, Any]  # {"inputs"?: {...}, "messages"?: [...], "expected_output"?: str}


def check_inputs(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidDatapoint(where, f"must be an object of variables, got {type_name(value)}.")
    if len(value) > MAX_INPUTS:
        raise InvalidDatapoint(where, f"holds {len(value)} variables; at most {MAX_INPUTS} are allowed.")
    for name in value:
        if not name or len(name) > MAX_INPUT_NAME:
            raise InvalidDatapoint(where, f"variable names are 1 to {MAX_INPUT_NAME} characters long.")
    return value


def _expected(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidDatapoint(where, f"must be a string, got {type_name(value)}.")
    return value


def check_fields(body: Mapping[str, Any], where: str, *, partial: bool) -> Datapoint:
    """The datapoint's fields that have a value; ``partial`` (an update) keeps an explicit
    ``null`` as None, meaning "remove this field"."""
    unknown = [name for name in body if name not in FIELDS and name not in READ_ONLY_FIELDS]
    if unknown:
        raise InvalidDatapoint(
            at(where, unknown[0]), f"is not a datapoint field; the fields are {', '.join(FIELDS)}."
        )
    checks: dict[str, Callable[[Any, str], Any]] = {
        "inputs": check_inputs,
        "messages": check_messages,
        "expected_output": _expected,
    }
    datapoint: Datapoint = {}
    for name, check in checks.items():
        if name not in body:
            continue
        if body[name] is None:
            if partial:
                datapoint[name] = None
            continue
        datapoint[name] = check(body[name], at(where, name))
    return datapoint


def check_datapoint(value: Any, where: str = "") -> Datapoint:
    """A new datapoint (create, bulk create, import)."""
    if not isinstance(value, dict):
        raise InvalidDatapoint(where or "body", f"must be a datapoint object, got {type_name(value)}.")
    return check_fields(value, where, partial=False)


def check_datapoints(value: Any, where: str, limit: int) -> list[Datapoint]:
    """A list of new datapoints; a 400 names the first wrong one by its index (``items[3].inputs``)."""
    if not isinstance(value, list):
        raise InvalidDatapoint(where or "body", f"must be a list of datapoints, got {type_name(value)}.")
    if len(value) > limit:
        raise InvalidDatapoint(
            where or "body", f"holds {len(value)} datapoints; at most {limit} are created at once."
        )
    return [check_datapoint(item, at(where, index)) for index, item in enumerate(value)]
