"""The ways the bench reaches the upstream, in measuring order: also the JSON keys of each run."""

from __future__ import annotations

DIRECT, STOCK, PASSTHROUGH, RELAYGATE = "direct", "passthrough_stock", "passthrough", "relaygate"
LABELS = {
    DIRECT: "direct",
    STOCK: "pass-through (stock)",
    PASSTHROUGH: "pass-through (relaygate's protocol)",
    RELAYGATE: "relaygate",
}
