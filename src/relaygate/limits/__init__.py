"""Rate limits and spend budgets per api key, identity and workspace."""

from __future__ import annotations

from relaygate.limits.limiter import BudgetExceeded, Limiter, Ticket

__all__ = ["BudgetExceeded", "Limiter", "Ticket"]
