"""The suite's recording plugin (loaded by tests/conftest.py): one run id for every process, the run's
start (the report's fragments reset, the Docker objects of killed runs swept), every test's outcome recorded
for the snippets it covers, the declared (snippet, check) pairs that got no result, the report written with
each tier's wall time and counts, and the summary printed at the end.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import sys
import time
from collections import defaultdict

import pytest

from snipcheck.harness import deadruns
from snipcheck.harness.docker import cli as dk
from snipcheck.model import manifest
from snipcheck.model.checks import CHECKS, TIERS
from snipcheck.model.paths import REPORT, rel
from snipcheck.run import cachestate, changes, toolversions
from snipcheck.run import ids as runid
from snipcheck.run import report as run_report
from snipcheck.run.diskwatch import DiskWatch
from snipcheck.run.results import head_commit
from support import (
    CALL_FAILED,
    IN_CI,
    RECORDING,
    is_worker,
    recording,
    selection,
    tier_of,
)

_TIER_SPAN: dict[str, list[float]] = defaultdict(lambda: [float("inf"), 0.0])
_TIER_COUNTS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
# tiers of which a test without the `root` mark ran: the ones whose snippet checks a run is judged on.
# Root-marked tests record no snippet check (they test the harness); the GitHub shard that runs them with
# sudo (`-m "cluster or root"`) runs one static test, and must not be held to the static tier's checks.
_TIERS_JUDGED: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    # xdist workers inherit the environment: every process of this run shares one run id
    os.environ.setdefault("SNIPCHECK_RUN_ID", runid.RUN_BASE)
    # SIGTERM (a CI timeout, `kill`) ends the run like Ctrl-C: fixtures tear down, so the control plane,
    # the node and containers started in sessions of their own do not outlive it
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not is_worker(session.config):
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
    if is_worker(session.config):
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
    if is_worker(config):
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
