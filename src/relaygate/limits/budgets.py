"""Spend budgets, kept exact by reserve-then-settle, in ledgers held in memory.

A ledger is one budget over one period (``day:2026-11-22``) and holds two figures: what
its scope **spent** (settled calls) and what calls in flight **reserved**. Before a call,
the most it can cost (``reservation.py``) is reserved if spent + reserved + it fit in the
budget, else the call is refused. After the call, however it ended, its reservation is
released and its real cost added to spent (``settle``): concurrent calls cannot
overspend together.

This module holds ledgers in this process (exact for one process); ``shared_ledgers.py``
holds the same two figures in Redis for many processes. Both merge what the store says a
ledger's scope spent (``seed``) by one rule, so that no call ever waits for the store:

- a ledger not held yet is created at that figure;
- a ledger a call opened before it was seeded (it started at zero, "provisional") gets
  the figure added: settlements counted meanwhile may be counted twice, which can only
  refuse early, never overspend;
- a seeded ledger is raised to the figure if the store knows more (calls settled by
  processes that do not share this ledger), never lowered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relaygate.limits.rules import DEFAULT_PERIOD, Rule, period_end, period_start

_GRACE_S = 86_400  # a shared ledger outlives its period by a day (late settlements)


@dataclass(frozen=True, slots=True)
class Ledger:
    key: str
    rule: Rule
    period: str
    start: datetime
    end: datetime | None  # None: a "total" budget never starts again

    @property
    def ttl_s(self) -> int:
        """How long a shared copy is kept (0: for ever)."""
        return 0 if self.end is None else int((self.end - self.start).total_seconds()) + _GRACE_S


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a ledger stands: settled spend, and reservations of calls in flight (nano-USD)."""

    spent_nano: int
    reserved_nano: int


@dataclass(frozen=True, slots=True)
class Refusal:
    ledger: Ledger
    standing: Standing
    reservation_nano: int  # what the refused call would have reserved


def _ledger_at(rule: Rule, start: datetime) -> Ledger:
    period = rule.period or DEFAULT_PERIOD
    key = f"ledger:{rule.id}:{period}:{start.date().isoformat()}"
    return Ledger(key, rule, period, start, period_end(period, start))


def ledger_of(rule: Rule, now: datetime) -> Ledger:
    """The ledger of ``rule``'s period that contains ``now``."""
    return _ledger_at(rule, period_start(rule.period or DEFAULT_PERIOD, now))


def next_ledger_of(rule: Rule, now: datetime) -> Ledger | None:
    """The ledger of the period after the current one (None for a "total" budget)."""
    current = ledger_of(rule, now)
    return None if current.end is None else _ledger_at(rule, current.end)


@dataclass(slots=True)
class Balance:
    spent: int = 0
    reserved: int = 0
    seeded: bool = False


class LocalLedgers:
    """Ledgers held in this process: without Redis, or while Redis is down."""

    def __init__(self) -> None:
        self._balances: dict[str, Balance] = {}
        self.unseeded: dict[str, Ledger] = {}  # opened by a call before the store was asked

    def reserve(self, ledger: Ledger, amount: int, reservation: int) -> Refusal | None:
        balance = self._balances.get(ledger.key)
        if balance is None:
            balance = self._balances[ledger.key] = Balance()
            self.unseeded[ledger.key] = ledger
        if balance.spent + balance.reserved + reservation > amount:
            return Refusal(ledger, Standing(balance.spent, balance.reserved), reservation)
        balance.reserved += reservation
        return None

    def settle(self, ledger: Ledger, reserved: int, cost: int) -> None:
        """Release a reservation and count the call's real cost (0 for a call never made)."""
        balance = self._balances.get(ledger.key)
        if balance is not None:  # else its period is over and the ledger forgotten
            balance.reserved = max(0, balance.reserved - reserved)
            balance.spent += cost

    def needs_seed(self, ledger: Ledger) -> bool:
        balance = self._balances.get(ledger.key)
        return balance is None or not balance.seeded

    def seed(self, ledger: Ledger, stored: int) -> None:
        """Merge what the store says the ledger's scope spent (the rule in the docstring)."""
        balance = self._balances.get(ledger.key)
        if balance is None:
            self._balances[ledger.key] = Balance(stored, 0, seeded=True)
        elif not balance.seeded:
            balance.spent += stored
            balance.seeded = True
        else:
            balance.spent = max(balance.spent, stored)
        self.unseeded.pop(ledger.key, None)

    def open(self, ledger: Ledger) -> None:
        """Hold a ledger whose period has not started yet: nothing can have been spent in it."""
        self._balances.setdefault(ledger.key, Balance(seeded=True))

    def standing(self, ledger: Ledger) -> Standing | None:
        balance = self._balances.get(ledger.key)
        if balance is None or not balance.seeded:
            return None
        return Standing(balance.spent, balance.reserved)

    def keep_only(self, keys: set[str]) -> None:
        """Forget ledgers of past periods and deleted budgets, once no call holds a reservation."""
        for key in [
            key for key, balance in self._balances.items() if key not in keys and not balance.reserved
        ]:
            del self._balances[key]
            self.unseeded.pop(key, None)
