"""The suite's scheduling plugin (loaded by tests/conftest.py): the tiers' order, the xdist groups that
keep one snippet's tests (and one API server, one browser tour, one node) on one worker, the order groups are
handed out, the `--changed` selection, and the tiers a selection needs (`SNIPCHECK_TIERS_FILE`).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.model.checks import TIERS
from support import (
    is_worker,
    recording,
    selection,
    tier_of,
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group markers added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order = {t: i for i, t in enumerate(RUN_ORDER)}
    items.sort(key=lambda it: order.get(tier_of(it), len(order)))
    for it in items:
        if tier_of(it) == "unmarked":
            raise pytest.UsageError(f"{it.nodeid}: every test needs a tier marker ({', '.join(TIERS)})")
    sel = selection()
    if sel:
        keep, drop = _apply_selection(sel, items)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    building_kube = kubeapi.background.is_running(kubeapi.BACKGROUND_PID) and not kubeapi.BACKGROUND_STATUS.exists()
    for it in items:
        covers = recording(it).covers
        if tier_of(it) == "cluster" and building_kube:
            # its first test waits for setup.sh's background build of the Kubernetes binaries
            it.add_marker(pytest.mark.timeout(KUBE_BUILD_WAIT), append=False)
        if it.nodeid.split("::", 1)[0] in NODE_MODULES:
            # the real node: one per run, and nothing else may change the host's network meanwhile
            it.add_marker(pytest.mark.xdist_group(NODE_GROUP))
        elif tier_of(it) in ONE_WORKER:
            # one API server / one browser tour per run: every worker that got a share would start its own
            it.add_marker(pytest.mark.xdist_group(tier_of(it)))
        elif covers and tier_of(it) in PARALLEL_BY_SNIPPET:
            # --dist loadgroup: the tests of one snippet share a worker and its built images
            it.add_marker(pytest.mark.xdist_group(covers[0]))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # the workers' collection order is the order groups are handed out (test.sh: --no-loadscope-reorder)
        items[:] = packing_order(items, largest_first=not building_kube)


def packing_order(items: list[pytest.Item], largest_first: bool = True) -> list[pytest.Item]:
    """The real node's group first: it runs for minutes but mostly waits (rollouts, probes), so started
    last it would be the run's tail (a cold run's tail then left the CPU mostly idle). Then xdist's
    own rule, largest groups first; or, while the Kubernetes binaries build in the background, the
    collection order (RUN_ORDER: the API server's group last). The node's worker then waits for that
    build (test.sh gives it a worker of its own) and runs beside the images tier's compiles."""

    def group(it: pytest.Item) -> str:
        mark = it.get_closest_marker("xdist_group")
        return str(mark.args[0]) if mark else it.nodeid

    sizes = Counter(group(it) for it in items)
    first = {g: i for i, g in enumerate(dict.fromkeys(group(it) for it in items))}

    def key(it: pytest.Item) -> tuple[bool, int, int]:
        return group(it) != NODE_GROUP, -sizes[group(it)] if largest_first else 0, first[group(it)]

    return sorted(items, key=key)


PARALLEL_BY_SNIPPET = ("images", "compose")
# site, cluster: one browser tour, one API server per run. service: one PostgreSQL and Redis, and the
# service compiled once with -race and once without: on a cold Go cache, workers compiling the same
# packages at the same time each do all of the work (the build cache is shared only once it is written).
ONE_WORKER = ("site", "cluster", "service")
# The node's tests wait more than they compute (rollouts, probes): a group of their own, beside the API
# server's; test_hoststate and test_nodejournal join it: they play a node on the host (and hold its lock).
NODE_MODULES = (
    "tests/cluster/test_node.py",
    "tests/cluster/machinery/test_hoststate.py",
    "tests/cluster/machinery/test_nodejournal.py",
)
NODE_GROUP = "cluster-node"
# The order groups are handed to workers while setup.sh builds the Kubernetes binaries in the background
# (scripts/test.sh then passes --no-loadscope-reorder; otherwise xdist starts the largest groups first):
# the site's tour, the longest single group, early; the cluster last, so that the build has the images
# and compose tiers' time to finish.
RUN_ORDER = ("inventory", "static", "site", "service", "kit", "images", "compose", "cluster")
assert sorted(RUN_ORDER) == sorted(TIERS), "RUN_ORDER must name every tier once"
KUBE_BUILD_WAIT = 3600  # s: the per-test timeout of cluster tests while that build runs


def _apply_selection(sel: dict[str, Any], items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """--changed runs (snipcheck.run.changes): keep the always-run tiers, the changed test modules and tier
    helpers, and every test that covers a selected snippet; the rest is deselected."""
    if sel.get("everything"):
        return items, []
    keep, drop = [], []
    for it in items:
        module = it.nodeid.split("::", 1)[0]
        chosen = (
            tier_of(it) in sel["always_tiers"]
            or any(module == m or module.startswith(m.rstrip("/") + "/") for m in sel["modules"])
            or any(s in sel["snippets"] for s in recording(it).covers)
        )
        (keep if chosen else drop).append(it)
    return keep, drop


def pytest_collection_finish(session: pytest.Session) -> None:
    """`SNIPCHECK_TIERS_FILE`: scripts/test.sh asks which tiers the selected tests belong to, so that
    the setup prepares only those (an inventory-only run needs no Docker and no root)."""
    out = os.environ.get("SNIPCHECK_TIERS_FILE")
    if out and not is_worker(session.config):
        Path(out).write_text(
            " ".join(sorted({tier_of(it) for it in session.items}, key=TIERS.index)) + "\n", encoding="utf-8"
        )
