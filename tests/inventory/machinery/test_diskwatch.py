"""snipcheck.run.diskwatch: the lowest free space of a run and the test after which it was seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.run.diskwatch import GB, DiskWatch

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(30)]


def watch(free_gb: list[float]) -> DiskWatch:
    values = iter(free_gb)
    return DiskWatch(path=Path("/var/lib/docker"), free=lambda _: int(next(values) * GB))


def test_the_lowest_free_space_and_the_test_before_it() -> None:
    w = watch([60.0, 41.5, 3.2, 30.0])
    for nodeid in ("start", "tests/a.py::one", "tests/images/x.py::big", "tests/b.py::two"):
        w.sample(nodeid)
    assert w.as_report() == {
        "path": "/var/lib/docker",
        "free_gb_at_start": 60.0,
        "lowest_free_gb": 3.2,
        "lowest_after": "tests/images/x.py::big",
    }
    assert w.low and "below 5 GB" in w.summary() and "after tests/images/x.py::big" in w.summary()


def test_enough_space_is_said_plainly() -> None:
    w = watch([60.0, 55.0])
    w.sample("start")
    w.sample("tests/a.py::one")
    assert not w.low
    assert w.summary() == "disk (/var/lib/docker): 60.0 GB free at the start, lowest 55.0 GB (after tests/a.py::one)"
