"""Tests that compile the same Go packages on the host run on one worker.

On a cold Go build cache two workers compiling the same packages at the same time each do all of the
work: the cache is shared only once written. `go vet` per module and the service tier (`go test -race`
per package, the server binary) are therefore kept on one worker each (tests/scheduling.py ONE_WORKER,
the xdist_group of tests/static/test_go.py). This collects those tests the way a worker does and reads
the group each one got."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import scheduling
from snipcheck.model.paths import ROOT
from support import nested_pytest_env

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(120)]

PRINT_GROUPS = """
def pytest_collection_finish(session):
    for it in session.items:
        mark = it.get_closest_marker("xdist_group")
        print("GROUP", it.nodeid, mark.args[0] if mark else "-")
"""
EXPECTED = {"tests/service/": "service", "tests/static/test_go.py::test_go_vet[": "go-vet"}


def groups(targets: list[str], plugin_dir: Path) -> dict[str, str]:
    """Each collected test's xdist group ("-" for none), in the order a worker hands them out."""
    (plugin_dir / "print_groups.py").write_text(PRINT_GROUPS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "print_groups", *targets],
        capture_output=True, text=True, timeout=100, cwd=ROOT,
        # a report of its own: with this run's, its session start would forget this run's records
        env=nested_pytest_env(PYTHONPATH=str(plugin_dir), PYTEST_XDIST_WORKER="gw0",
                              SNIPCHECK_REPORT=str(plugin_dir / "report.json")),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    found = {}
    for line in proc.stdout.splitlines():
        if line.startswith("GROUP "):
            _, nodeid, group = line.split(" ", 2)
            found[nodeid] = group
    return found


def misplaced(found: dict[str, str]) -> list[str]:
    wrong = []
    for prefix, group in EXPECTED.items():
        chosen = {n: g for n, g in found.items() if n.startswith(prefix)}
        assert chosen, f"no test collected under {prefix}"
        wrong += [f"{n}: group {g!r}, expected {group!r}" for n, g in chosen.items() if g != group]
    return wrong


def test_go_compiling_tests_share_a_worker(tmp_path: Path) -> None:
    found = groups(["tests/service", "tests/static/test_go.py"], tmp_path)
    wrong = misplaced(found)
    assert not wrong, "these would compile the same Go packages on several workers at once:\n" + "\n".join(wrong)


def test_a_test_outside_its_group_is_named() -> None:
    found = {
        "tests/service/test_go_service.py::test_go_test_race[./cmd/server]": "service",
        "tests/service/test_go_service.py::test_binary_size_measured": "-",
        "tests/static/test_go.py::test_go_vet[myapp/go.mod]": "go-vet",
    }
    assert misplaced(found) == [
        "tests/service/test_go_service.py::test_binary_size_measured: group '-', expected 'service'"
    ]


def test_the_nodes_group_is_handed_out_first(tmp_path: Path) -> None:
    """It mostly waits (rollouts, probes): started last, it was a cold run's idle tail."""
    order = list(groups(["tests/cluster/test_node.py", "tests/service", "tests/static/test_go.py"], tmp_path).values())
    assert order and order[0] == "cluster-node", f"first groups handed out: {list(dict.fromkeys(order))[:4]}"


class GroupedItem:
    """What _packing_order reads of a pytest item: its node id and its xdist_group marker."""

    def __init__(self, nodeid: str, group: str | None) -> None:
        self.nodeid, self.group = nodeid, group

    def get_closest_marker(self, name: str) -> SimpleNamespace | None:
        return SimpleNamespace(args=(self.group,)) if name == "xdist_group" and self.group else None


@pytest.mark.parametrize(
    ("largest_first", "expected"),
    [
        # a warm run: xdist's rule after the node, largest groups first (ties: collection order)
        (True, ["cluster-node", "images-a", "site", "cluster", "static::one"]),
        # while the Kubernetes binaries build: the collection order (RUN_ORDER), the API server's group last
        (False, ["cluster-node", "static::one", "site", "images-a", "cluster"]),
    ],
    ids=["warm", "while-building"],
)
def test_packing_order(largest_first: bool, expected: list[str]) -> None:
    node = scheduling.NODE_GROUP
    collected = [  # in collection order (RUN_ORDER)
        GroupedItem("static::one", None),
        *(GroupedItem(f"site::{i}", "site") for i in range(2)),
        *(GroupedItem(f"images::{i}", "images-a") for i in range(3)),
        *(GroupedItem(f"cluster::{i}", "cluster") for i in range(2)),
        GroupedItem("node::0", node),
    ]
    order = scheduling.packing_order(collected, largest_first=largest_first)
    handed_out = list(dict.fromkeys(it.group or it.nodeid for it in order))
    assert handed_out == expected
