"""The 400 of a datapoint that is not one, naming the field the way a client writes it."""

from __future__ import annotations

from relaygate.deployments.fields import type_name
from relaygate.errors import InvalidRequest

__all__ = ["InvalidDatapoint", "at", "type_name"]


class InvalidDatapoint(InvalidRequest):
    """A datapoint field that does not hold what the SDKs read back; ``param`` names it."""

    default_code = "invalid_datapoint"

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"Invalid '{param}': {problem}", param=param)
        self.problem = problem


def at(where: str, name: str | int) -> str:
    """The path of a member: ``at("messages", 1)`` -> ``messages[1]``, ``at("", "inputs")`` -> ``inputs``."""
    if isinstance(name, int):
        return f"{where}[{name}]"
    return f"{where}.{name}" if where else name
