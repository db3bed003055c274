"""Rate limits and spend budgets per api key, identity and workspace."""

from __future__ import annotations

from relaygate.limits.limiter import Limiter, Ticket
from relaygate.limits.refusals import BudgetExceeded

__all__ = ["BudgetExceeded", "Limiter", "Ticket"]
