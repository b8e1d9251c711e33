"""Suite-wide rules: tiers, CI strictness, per-snippet recording, tier timing, coverage.

- `require(ok, missing)`: locally skip with a reason naming what is missing and how to get it;
  with CI=true fail instead, so a tier that cannot run is never reported as passing.
- One way to record a result (support.recording): a test marked `@pytest.mark.check("NAME")` gets its
  outcome recorded in the run report for every snippet it covers — its manifest.Snippet parameters
  and the paths of its `@pytest.mark.covers(...)` marker; the `measure` fixture adds measurements.
- At the end, every (snippet, check) declared in the manifests whose tier ran must have a
  recorded result; otherwise the session fails and names the missing pairs.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from snipcheck.harness import deadruns
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.model import manifest
from snipcheck.model.checks import CHECKS, TIERS
from snipcheck.model.paths import REPORT, rel
from snipcheck.run import cachestate, changes, toolversions
from snipcheck.run import ids as runid
from snipcheck.run import report as run_report
from snipcheck.run.diskwatch import DiskWatch
from snipcheck.run.results import head_commit
from snipcheck.site import build as sitebuild
from support import (  # noqa: F401 (require re-exported)
    CALL_FAILED,
    IN_CI,
    RECORDING,
    recording,
    require,
    require_root_if_marked,
    selection,
)


def tier_of(item: pytest.Item) -> str:
    for tier in TIERS:
        if item.get_closest_marker(tier):
            return tier
    return "unmarked"


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Measurements recorded with this test's result (image size, uid, seconds...)."""
    return recording(request.node).measurements


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory):
    """The site built once per session exactly as pages.yml builds it: `--strict`, publishing settings."""
    out = tmp_path_factory.mktemp("site") / "site"
    try:
        sitebuild.build(out, sitebuild.publishing_env())
    except sitebuild.SiteBuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    return out


_TIER_SPAN: dict[str, list[float]] = defaultdict(lambda: [float("inf"), 0.0])
_TIER_COUNTS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
# tiers of which a test without the `root` mark ran: the ones whose snippet checks a run is judged on.
# Root-marked tests record no snippet check (they test the harness); the GitHub shard that runs them with
# sudo (`-m "cluster or root"`) runs one static test, and must not be held to the static tier's checks.
_TIERS_JUDGED: set[str] = set()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


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
        items[:] = _packing_order(items, largest_first=not building_kube)


def _packing_order(items: list[pytest.Item], largest_first: bool = True) -> list[pytest.Item]:
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
NODE_MODULES = ("tests/cluster/test_node.py", "tests/cluster/test_hoststate.py", "tests/cluster/test_nodejournal.py")
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
    if out and not _is_worker(session.config):
        Path(out).write_text(
            " ".join(sorted({tier_of(it) for it in session.items}, key=TIERS.index)) + "\n", encoding="utf-8"
        )


def pytest_configure(config: pytest.Config) -> None:
    # xdist workers inherit the environment: every process of this run shares one run id
    os.environ.setdefault("SNIPCHECK_RUN_ID", runid.RUN_BASE)
    # SIGTERM (a CI timeout, `kill`) ends the run like Ctrl-C: fixtures tear down, so the control plane,
    # the node and containers started in sessions of their own do not outlive it
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_worker(session.config):
        run_report.reset()
        session.config.stash[_START] = time.time()
        _DISK.sample("the session's start")
        _sweep_and_register_docker_run(session.config)


def _sweep_and_register_docker_run(config: pytest.Config) -> None:
    """The Docker objects of killed runs go (snipcheck/deadruns.py); this run is recorded, so that the
    next run can do the same for it if it is killed."""
    if not shutil.which("docker"):
        return
    try:
        engine = deadruns.engine_id()
        if engine is None:
            return  # no engine: no Docker objects, neither a dead run's nor ours
        for line in deadruns.sweep(engine=engine):
            print(f"\n[dead runs] {line}", file=sys.stderr)
        config.stash[_RUN_RECORD] = deadruns.register(engine=engine)
    except (OSError, dk.DockerError) as exc:
        print(f"\n[dead runs] could not look for the Docker objects of killed runs: {exc}", file=sys.stderr)


def pytest_runtest_setup(item: pytest.Item) -> None:
    require_root_if_marked(item)


_START = pytest.StashKey[float]()
_RUN_RECORD = pytest.StashKey["Path | None"]()
# the free disk space after each test, on the controller (the workers' reports reach it)
_DISK = DiskWatch()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    rep.user_properties.append(("tier", tier_of(item)))  # travels to the xdist controller
    if rep.when == "call" and rep.failed:
        item.stash[CALL_FAILED] = True  # fixtures attach logs on failure
    rec = item.stash.get(RECORDING, None) or recording(item)
    if rec.check is None or not rec.covers:
        return
    final = (rep.when == "call") or (rep.when == "setup" and not rep.passed)
    if not final:
        return
    result = "passed" if rep.passed else "skipped" if rep.skipped else "failed"
    extra = dict(rec.measurements)
    if rep.skipped and isinstance(rep.longrepr, tuple):
        extra["reason"] = rep.longrepr[2]
    elif rep.failed:
        extra["error"] = str(rep.longrepr)[-1500:]
    for subject in rec.covers:
        run_report.record(subject, rec.check, result, rep.duration, test=item.nodeid, **extra)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    rep = report
    tier = dict(rep.user_properties).get("tier", "unmarked")
    span = _TIER_SPAN[tier]
    span[0] = min(span[0], rep.start)
    span[1] = max(span[1], rep.stop)
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        _TIER_COUNTS[tier][rep.outcome] += 1
        if "root" not in rep.keywords:
            _TIERS_JUDGED.add(tier)
    elif rep.when == "teardown" and rep.failed:
        _TIER_COUNTS[tier]["error"] += 1
    if rep.when == "teardown" and not os.environ.get("PYTEST_XDIST_WORKER"):
        _DISK.sample(rep.nodeid)  # the controller's (or a serial run's) watch is the one reported


def _missing_pairs(selected_tiers: set[str], only: set[str] | None = None) -> list[str]:
    """Declared (snippet, check) pairs of the tiers that ran with no recorded result; with a --changed
    selection, only those of the selected snippets count for the tiers that do not always run whole."""
    try:
        snippets = manifest.load()
    except manifest.ManifestError:
        return []  # the inventory tier reports the broken manifest itself
    seen = {(r["snippet"], r["check"]) for r in run_report.records()}
    missing = []
    for snip in snippets.values():
        for check in snip.checks:
            tier = CHECKS[check].tier
            if tier not in selected_tiers or (
                only is not None and tier not in changes.ALWAYS_TIERS and snip.path not in only
            ):
                continue
            if (snip.path, check) not in seen:
                missing.append(
                    f"{snip.where()}: {snip.path} declares `{check}` but no test recorded it "
                    f"(implemented in {', '.join(CHECKS[check].tests)})"
                )
    return missing


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    deadruns.finish(session.config.stash.get(_RUN_RECORD, None))  # the workers have cleaned up by now
    selected = {t for t, c in _TIER_COUNTS.items() if sum(c.values())} & _TIERS_JUDGED
    # Coverage is judged only on whole-suite runs (tiers may be narrowed with -m, not -k or paths).
    whole = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS and not session.config.option.keyword
    sel = selection()
    only = None if not sel or sel.get("everything") else set(sel["snippets"])
    missing = _missing_pairs(selected, only) if whole else []
    tiers = {
        t: {"seconds": round(max(0.0, s[1] - s[0]), 1), **dict(_TIER_COUNTS[t])}
        for t, s in _TIER_SPAN.items()
        if s[1] > 0
    }
    session.config.stash[_TIERS] = tiers
    session.config.stash[_MISSING] = missing
    run_report.write(
        {
            "run_id": runid.RUN_BASE,
            "ci": IN_CI,
            "started": session.config.stash.get(_START, 0.0),
            "wall_seconds": round(time.time() - session.config.stash.get(_START, time.time()), 1),
            "host": platform.node(),
            "image_source_mode": os.environ.get("SNIPCHECK_IMAGES", "auto"),
            "commit": head_commit(),  # the site's publishing build refuses a report of another commit
            "tools": toolversions.collect(),
            "tiers": tiers,
            "setup_seconds": int(os.environ.get("SNIPCHECK_SETUP_SECONDS", "0") or 0),
            "caches_at_start": cachestate.read(),
            "wall_seconds_with_setup": round(time.time() - float(os.environ["SNIPCHECK_STARTED"]), 1)
            if os.environ.get("SNIPCHECK_STARTED")
            else None,
            "pytest_args": session.config.invocation_params.args,
            "unrecorded_checks": missing,
            "selection": sel or {"everything": "a full run (no --changed)"},
            "disk": _DISK.as_report(),
        }
    )
    if missing and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_TIERS = pytest.StashKey[dict]()
_MISSING = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    tiers = config.stash.get(_TIERS, {})
    tr = terminalreporter
    tr.section("wall time per tier")
    for tier in [*TIERS, "unmarked"]:
        if tier in tiers:
            t = tiers[tier]
            counts = ", ".join(f"{k} {v}" for k, v in t.items() if k != "seconds")
            tr.write_line(f"{tier:<10} {t['seconds']:>8.1f} s   {counts}")
    tr.write_line(_DISK.summary(), red=_DISK.low)
    tr.write_line(f"report: {rel(REPORT)}")
    for line in config.stash.get(_MISSING, []):
        tr.write_line(f"UNRECORDED CHECK: {line}", red=True)
