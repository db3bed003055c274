"""What evaluating one answer gives: a score, whether it passed, why; or why it could not."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Score:
    """``value``: the number (1.0 / 0.0 for a pass/fail kind); ``passed``: None when the
    evaluator has no pass mark; ``error``: set (and ``value`` None) when the evaluator
    itself failed, e.g. a judge whose answer could not be read. An error is not a score."""

    value: float | None
    passed: bool | None
    reason: str | None = None
    error: str | None = None

    @classmethod
    def verdict(cls, passed: bool, reason: str | None = None) -> Score:
        return cls(1.0 if passed else 0.0, passed, reason)

    @classmethod
    def failed(cls, error: str) -> Score:
        return cls(None, None, None, error)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Sample:
    """One answer to score: what was asked (text or any JSON), the answer, the reference."""

    input: Any
    output: str
    expected: str | None = None
