"""relaygate's routing fields sent as form fields of an upload (multipart/form-data).

The OpenAI SDKs send an upload's ``extra_body`` as form fields in bracket notation, one
field per value: ``fallbacks[][model]=a``, ``retry[count]=2``, ``retry[on_codes][]=429``,
``load_balancer[models][][weight]=3``, ``identity[id]=u-1``. A client may also send one field
whose value is the JSON of the whole object (``-F 'fallbacks=[{"model": "a"}]'``). Either
way this module rebuilds the object the JSON body would have carried, so that an upload is
routed by the same rules (``routing.parse_plan``) as any other call.

Form values are text, so the few numbers of the contract (``count``, ``on_codes``,
``weight``, ``call_timeout``, ``ttl``) are read as numbers; everything else stays text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from relaygate.errors import InvalidRequest
from relaygate.router.call import ROUTING_FIELDS

_ROOTS = frozenset((*ROUTING_FIELDS, "orq"))
_KEYS = re.compile(r"\[([^\[\]]*)\]")
_NUMERIC = frozenset({"count", "on_codes", "weight", "call_timeout", "ttl"})
_TEXT = frozenset({"identity", "thread", "metadata", "name"})  # their values stay as sent
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}\.[0-9]{1,15}")


def is_routing_field(name: str) -> bool:
    """Is this form field one of relaygate's own (never sent upstream)?"""
    return name.partition("[")[0] in _ROOTS


def _invalid(name: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"The form field '{name}' {why}.", param=name.partition("[")[0])


def _path(name: str) -> list[str]:
    root, bracket, rest = name.partition("[")
    if not bracket:
        return [root]
    keys = _KEYS.findall(bracket + rest)
    if "".join(f"[{key}]" for key in keys) != bracket + rest:
        raise _invalid(name, "is not in bracket notation (name[key][] ...)")
    return [root, *keys]


def _put(node: dict[str, Any], keys: list[str], value: Any, name: str) -> None:
    key, rest = keys[0], keys[1:]
    if not rest:
        node[key] = value
        return
    if rest[0] == "":  # a list: name[]=v, or a list of objects: name[][key]=v
        items = node.setdefault(key, [])
        if not isinstance(items, list):
            raise _invalid(name, "mixes a list with an object")
        tail = rest[1:]
        if not tail:
            items.append(value)
            return
        if not items or not isinstance(items[-1], dict) or tail[0] in items[-1]:
            items.append({})  # the key is taken in the last object: this starts the next one
        _put(items[-1], tail, value, name)
        return
    child = node.setdefault(key, {})
    if not isinstance(child, dict):
        raise _invalid(name, "mixes an object with a list or a value")
    _put(child, rest, value, name)


def _value(name: str, text: str, bracketed: bool) -> Any:
    if not bracketed and text[:1] in ("{", "["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _invalid(name, "is not valid JSON") from None
    return text


def _numbers(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {inner: item if inner in _TEXT else _numbers(item, inner) for inner, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item, key) for item in value]
    if isinstance(value, str) and key in _NUMERIC:
        if _INTEGER.fullmatch(value):
            return int(value)
        if _DECIMAL.fullmatch(value):
            return float(value)
    return value


def routing_object(fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The routing fields of a form as the JSON body would have carried them."""
    body: dict[str, Any] = {}
    for name, text in fields:
        keys = _path(name)
        _put(body, keys, _value(name, text, len(keys) > 1), name)
    numbered: dict[str, Any] = _numbers(body)
    return numbered
