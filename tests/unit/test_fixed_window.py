"""The fixed-window counter behind the auth brake and the probe quota, on a clock the test moves."""

from __future__ import annotations

from relaygate.limits.fixed_window import FixedWindowCounter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counts_per_key_within_a_window() -> None:
    clock = Clock()
    counter = FixedWindowCounter(60, clock=clock)
    assert counter.count("a") == 0
    assert [counter.add("a") for _ in range(3)] == [1, 2, 3]
    assert counter.add("b") == 1
    assert counter.count("a") == 3
    assert counter.count("b") == 1


def test_a_window_is_fixed_from_its_first_event_then_starts_again_at_zero() -> None:
    clock = Clock()
    counter = FixedWindowCounter(60, clock=clock)
    counter.add("a")
    clock.now += 59.5
    assert counter.add("a") == 2, "events late in a window do not extend it"
    clock.now += 0.5
    assert counter.count("a") == 0
    assert counter.add("a") == 1


def test_retry_after_is_whole_seconds_until_the_window_ends_and_at_least_one() -> None:
    clock = Clock()
    counter = FixedWindowCounter(60, clock=clock)
    counter.add("a")
    assert counter.retry_after("a") == 60
    clock.now += 10.2
    assert counter.retry_after("a") == 50
    clock.now += 49.9
    assert counter.retry_after("a") == 1
    assert counter.retry_after("never-seen") == 1


def test_expired_windows_make_room_first() -> None:
    clock = Clock()
    counter = FixedWindowCounter(60, max_keys=4, clock=clock)
    for key in ("a", "b", "c"):
        counter.add(key)
    clock.now += 61
    counter.add("d")
    counter.add("e")  # full: a, b and c have expired and go
    assert len(counter) == 2
    assert (counter.count("d"), counter.count("e")) == (1, 1)


def test_all_recent_keys_over_the_bound_forget_the_oldest_half() -> None:
    clock = Clock()
    counter = FixedWindowCounter(60, max_keys=100, clock=clock)
    for index in range(1000):
        clock.now += 0.001
        counter.add(f"key-{index}")
        assert len(counter) <= 100
    assert counter.count("key-999") == 1
    assert counter.count("key-0") == 0


def test_a_key_whose_window_restarts_counts_as_the_newest() -> None:
    clock = Clock()
    counter = FixedWindowCounter(10, max_keys=2, clock=clock)
    counter.add("old")
    clock.now += 5
    counter.add("other")
    clock.now += 6
    counter.add("old")  # its window restarted: now newer than "other"'s
    counter.add("new")  # full and nothing expired: the older half ("other") goes
    assert counter.count("old") == 1
    assert counter.count("other") == 0
    assert counter.count("new") == 1
