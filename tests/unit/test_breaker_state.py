"""The breaker's state machine, on a clock the test moves."""

from __future__ import annotations

from decimal import Decimal

from relaygate.catalog import RoutableModel
from relaygate.router.breaker import Breakers

from support.models import routable_model


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _model(model_id: str = "m1") -> RoutableModel:
    return routable_model(
        "p/m", id=model_id, workspace_id="ws", input_cost=Decimal(0), output_cost=Decimal(0)
    )


def test_opens_after_threshold_then_lets_one_probe_through_after_cooldown() -> None:
    clock = Clock()
    breakers = Breakers(3, 30.0, clock=clock)
    model = _model()
    for _ in range(2):
        breakers.failed(model)
    assert breakers.allow(model)
    breakers.failed(model)
    assert not breakers.allow(model)
    assert breakers.retry_in(model) == 30.0
    clock.now += 29.9
    assert not breakers.allow(model)
    clock.now += 0.2
    assert breakers.allow(model)  # the probe
    assert not breakers.allow(model)  # only one at a time
    breakers.succeeded(model)
    assert breakers.allow(model)
    assert breakers.state_of(model.id)["state"] == "closed"
    assert breakers.state_of(model.id)["opened_total"] == 1


def test_a_failed_probe_reopens_and_a_lost_probe_expires() -> None:
    clock = Clock()
    breakers = Breakers(1, 10.0, clock=clock)
    model = _model()
    breakers.failed(model)
    clock.now += 10
    assert breakers.allow(model)
    breakers.failed(model)
    assert breakers.state_of(model.id)["state"] == "open"
    clock.now += 10
    assert breakers.allow(model)  # a probe that never reports back ...
    clock.now += 10
    assert breakers.allow(model)  # ... is replaced after another cooldown


def test_successes_reset_the_count_and_statuses_are_classified() -> None:
    breakers = Breakers(2, 10.0, clock=Clock())
    model = _model()
    breakers.failed(model)
    breakers.observe(model, 429)  # alive, only busy
    breakers.failed(model)
    assert breakers.allow(model)
    breakers.observe(model, 501)  # definitive, not a sick upstream: resets too
    breakers.observe(model, 503)
    assert breakers.allow(model)
    breakers.observe(model, 503)
    assert not breakers.allow(model)


def test_snapshot_and_off_switch() -> None:
    breakers = Breakers(1, 10.0, clock=Clock())
    breakers.failed(_model("a"))
    breakers.succeeded(_model("b"))
    [state] = breakers.snapshot()
    assert (state.model_id, state.router_id, state.workspace_id, state.state) == ("a", "p/m", "ws", "open")
    off = Breakers(0, 10.0)
    for _ in range(10):
        off.failed(_model())
    assert off.allow(_model())
    assert off.snapshot() == []
