"""Alerts: a workspace's rules on budgets, failing models and error rates, evaluated in the
background by the one process holding the alerts' lease, each episode sent once when it
fires and once when it resolves to a webhook, signed and retried (see docs/alerts.md)."""
