"""The miss loader: one bounded store lookup per unknown name, shared and remembered."""

from __future__ import annotations

import asyncio

from relaygate.cluster.miss_loader import MissLoader


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Store:
    """A lookup that waits until released, and counts what it was asked."""

    def __init__(self, rows: dict[str, str]) -> None:
        self.rows = rows
        self.asked: list[str] = []
        self.release = asyncio.Event()

    async def load(self, name: str) -> str | None:
        self.asked.append(name)
        await self.release.wait()
        return self.rows.get(name)


async def _concurrent_misses_of_one_name_share_one_lookup() -> None:
    store = Store({"k": "found"})
    loader = MissLoader(store.load)
    waiting = [asyncio.create_task(loader.get("k")) for _ in range(50)]
    await asyncio.sleep(0)
    store.release.set()
    assert await asyncio.gather(*waiting) == ["found"] * 50
    assert store.asked == ["k"]
    assert loader.lookups == 1


def test_concurrent_misses_of_one_name_share_one_lookup() -> None:
    asyncio.run(_concurrent_misses_of_one_name_share_one_lookup())


async def _a_name_not_found_is_not_looked_up_again_until_its_ttl_ends() -> None:
    clock = Clock()
    store = Store({})
    store.release.set()
    loader = MissLoader(store.load, negative_ttl=2.0, clock=clock)
    for _ in range(100):
        assert await loader.get("wrong") is None
    assert store.asked == ["wrong"]
    clock.now += 1.9
    assert await loader.get("wrong") is None
    assert store.asked == ["wrong"]
    clock.now += 0.2
    store.rows["wrong"] = "created since"
    assert await loader.get("wrong") == "created since"
    assert store.asked == ["wrong", "wrong"]


def test_a_name_not_found_is_not_looked_up_again_until_its_ttl_ends() -> None:
    asyncio.run(_a_name_not_found_is_not_looked_up_again_until_its_ttl_ends())


async def _forget_drops_the_remembered_misses() -> None:
    store = Store({})
    store.release.set()
    loader = MissLoader(store.load)
    assert await loader.get("k") is None
    store.rows["k"] = "made"
    assert await loader.get("k") is None  # remembered
    loader.forget()
    assert await loader.get("k") == "made"


def test_forget_drops_the_remembered_misses() -> None:
    asyncio.run(_forget_drops_the_remembered_misses())


async def _lookups_at_once_are_bounded_and_the_rest_refused_at_once() -> None:
    store = Store({name: name.upper() for name in ("a", "b", "c", "d", "e")})
    loader = MissLoader(store.load, max_concurrent=4)
    waiting = [asyncio.create_task(loader.get(name)) for name in ("a", "b", "c", "d")]
    await asyncio.sleep(0)
    assert await loader.get("e") is None  # over the bound: no lookup, no wait
    assert loader.refused == 1
    store.release.set()
    assert await asyncio.gather(*waiting) == ["A", "B", "C", "D"]
    assert sorted(store.asked) == ["a", "b", "c", "d"]
    assert await loader.get("e") == "E"  # not remembered as missing: looked up once there is room


def test_lookups_at_once_are_bounded_and_the_rest_refused_at_once() -> None:
    asyncio.run(_lookups_at_once_are_bounded_and_the_rest_refused_at_once())


async def _remembered_misses_are_bounded() -> None:
    store = Store({})
    store.release.set()
    loader = MissLoader(store.load, max_negative=100)
    for index in range(1000):
        await loader.get(f"wrong-{index}")
    assert len(loader) == 100
    await loader.get("wrong-999")  # the most recent are the ones kept
    assert len(store.asked) == 1000


def test_remembered_misses_are_bounded() -> None:
    asyncio.run(_remembered_misses_are_bounded())


async def _a_failing_store_refuses_and_a_hang_up_does_not_cancel_the_shared_lookup() -> None:
    calls = 0

    async def broken(name: str) -> str | None:
        nonlocal calls
        calls += 1
        raise OSError("the store is down")

    loader = MissLoader(broken)
    assert await loader.get("k") is None
    assert await loader.get("k") is None
    assert calls == 1

    store = Store({"k": "found"})
    shared = MissLoader(store.load)
    first = asyncio.create_task(shared.get("k"))
    second = asyncio.create_task(shared.get("k"))
    await asyncio.sleep(0)
    first.cancel()  # the first client hangs up
    await asyncio.sleep(0)
    store.release.set()
    assert await second == "found"
    assert store.asked == ["k"]


def test_a_failing_store_refuses_and_a_hang_up_does_not_cancel_the_shared_lookup() -> None:
    asyncio.run(_a_failing_store_refuses_and_a_hang_up_does_not_cancel_the_shared_lookup())
