"""Every table keyed by a shared vocabulary (``relaygate/vocab.py``) covers exactly its words.

The vocabularies are written once, but other tables are keyed by their words: the
router's endpoints, the probe's minimal calls, the usage report's columns, the Studio's
option lists. A word added to a vocabulary and missed by one of them fails here, not in
front of a user.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import relaygate
from relaygate.limits.rules import period_end, period_start
from relaygate.router.endpoints import ENDPOINTS
from relaygate.store.usage_reports import GROUPS
from relaygate.upstream.probe import _MINIMAL_CALLS
from relaygate.vocab import BUDGET_PERIODS, MODEL_TYPES, UsageGroup, UsageInterval

STUDIO = Path(relaygate.__file__).parent / "studio" / "static"


def _studio_words(file: str, constant: str) -> tuple[str, ...]:
    """The first word of each ``['word', 'Label']`` pair of a Studio option list."""
    source = (STUDIO / file).read_text()
    found = re.search(rf"const {constant} = \[(.*?)\];", source, re.DOTALL)
    if found is None:
        raise AssertionError(f"{file} has no {constant} list")
    return tuple(re.findall(r"\['([a-z_]+)',", found.group(1)))


def test_every_model_type_is_served_by_an_endpoint_and_no_endpoint_names_another() -> None:
    served = {kind for endpoint in ENDPOINTS.values() for kind in endpoint.model_types}
    assert served == set(MODEL_TYPES)


def test_the_probe_has_a_minimal_call_for_exactly_the_model_types() -> None:
    assert set(_MINIMAL_CALLS) == set(MODEL_TYPES)


def test_every_budget_period_has_a_start_and_only_total_has_no_end() -> None:
    now = datetime(2025, 3, 19, 15, 30, tzinfo=UTC)  # a Wednesday
    starts = {period: period_start(period, now) for period in BUDGET_PERIODS}
    assert starts == {
        "day": datetime(2025, 3, 19, tzinfo=UTC),
        "week": datetime(2025, 3, 17, tzinfo=UTC),
        "month": datetime(2025, 3, 1, tzinfo=UTC),
        "total": datetime(1970, 1, 1, tzinfo=UTC),
    }
    ends = {period for period in BUDGET_PERIODS if period_end(period, starts[period]) is not None}
    assert ends == set(BUDGET_PERIODS) - {"total"}


def test_the_usage_report_groups_by_exactly_the_groups_the_api_accepts() -> None:
    assert set(GROUPS) == set(get_args(UsageGroup))


def test_the_studio_offers_exactly_the_vocabularies() -> None:
    assert _studio_words("model-rules.js", "MODEL_TYPES") == MODEL_TYPES
    assert _studio_words("pages/keys.js", "PERIODS") == BUDGET_PERIODS
    assert _studio_words("pages/usage.js", "INTERVALS") == get_args(UsageInterval)
