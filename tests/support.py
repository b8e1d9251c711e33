"""Helpers shared by the tiers: the CI rule for missing tools, and probes of running containers."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from snipcheck.harness import waiting
from snipcheck.harness.docker import cli as dk
from snipcheck.model import manifest
from snipcheck.model.checks import TIERS
from snipcheck.model.paths import ROOT
from snipcheck.run import changes

CALL_FAILED = pytest.StashKey[bool]()  # set by tests/recording.py when a test body fails
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Recording:
    """What a test's result is recorded as: the check it implements, the snippets it covers, and
    the measurements it adds. Built from the test's markers and parameters (see `recording`)."""

    check: str | None
    covers: list[str]
    measurements: dict[str, Any] = field(default_factory=dict)


RECORDING = pytest.StashKey[Recording]()


def recording(item: pytest.Item) -> Recording:
    """The test's Recording: `@pytest.mark.check(NAME)`, and as covered snippets its manifest.Snippet
    parameters plus the paths of `@pytest.mark.covers(...)`. Fixtures may extend it (the kit tier
    covers `image:REF` subjects); everything reaches the report through tests/recording.py."""
    rec = item.stash.get(RECORDING, None)
    if rec is None:
        mark = item.get_closest_marker("check")
        params = getattr(getattr(item, "callspec", None), "params", {})
        covers = [v.path for v in params.values() if isinstance(v, manifest.Snippet)]
        for m in item.iter_markers("covers"):
            covers += [c for c in m.args if c not in covers]
        rec = Recording(mark.args[0] if mark else None, covers)
        item.stash[RECORDING] = rec
    return rec


# What scripts/test.sh tells this run's pytest about this run only: a pytest that a test starts (to collect
# or run a suite of its own) must not inherit it — `--changed`'s selection would deselect its tests.
RUN_SCOPED_ENV = ("SNIPCHECK_SELECTION", "SNIPCHECK_TIERS_FILE")


def selection() -> dict[str, Any] | None:
    """The --changed selection (scripts/test.sh writes it; SNIPCHECK_SELECTION names the file). Read from
    the environment, not collection state: under xdist only the workers collect, the controller reports."""
    path = os.environ.get("SNIPCHECK_SELECTION")
    return changes.load(Path(path)) if path else None


def nested_pytest_env(**extra: str) -> dict[str, str]:
    """The environment for a pytest that a test starts: this one's, less RUN_SCOPED_ENV, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in RUN_SCOPED_ENV}
    return {**env, **extra}


def require(ok: bool, missing: str) -> None:
    """Skip locally (saying what is missing and how to get it); fail with CI=true."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"CI=true and this tier cannot run: {missing}", pytrace=False)
    pytest.skip(missing)


def skip_needs_registry(snippet: Any, what: str) -> None:
    """An entry that declares `needs_registry` is skipped when its images are unavailable, except in a
    registry run (SNIPCHECK_IMAGES=registry, as GitHub's CI runs): there the images should have come from
    the registry, so their absence is a pull that failed, a failure (review M8). An entry that does not
    declare it fails either way."""
    from snipcheck.harness import imagekit

    if not snippet.settings.get("needs_registry"):
        pytest.fail(
            f"{snippet.where()}: images unavailable and the entry does not declare `needs_registry`: {what}",
            pytrace=False,
        )
    if imagekit.requested_mode() == "registry":
        pytest.fail(
            f"{snippet.where()}: SNIPCHECK_IMAGES=registry, yet the registry did not deliver: {what}; "
            "check the registry's reachability and rate limit, or run with SNIPCHECK_IMAGES=local",
            pytrace=False,
        )
    pytest.skip(what)  # declared in the manifest, no registry in this run: reported as such, never faked


def require_root_if_marked(item: Any) -> None:
    """Tests marked `root` need root: as a user they skip locally and fail with CI=true (require). GitHub's
    jobs run as a user: ci.yml runs `root` tests in its one job with sudo (the cluster shard) and deselects
    them in the others, so that none is skipped there. (tests/conftest.py calls it before each test.)"""
    mark = item.get_closest_marker("root")
    if mark is not None and os.geteuid() != 0:
        require(False, str(mark.kwargs.get("reason") or "needs root"))


HARDENED = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]


def http_get(url: str, timeout: float = 3) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# The chapter's service refuses to start without a database password (it is required config);
# images built from snippets/myapp get this unless the manifest's `run: {env: ...}` says otherwise.
APP_ENV = {"DB_PASSWORD": "snipcheck"}


def app_env(snippet) -> dict[str, str]:
    run = snippet.settings.get("run") or {}
    context = (snippet.settings.get("build") or {}).get("context", "")
    base = dict(APP_ENV) if context == "myapp" else {}
    return {**base, **{str(k): str(v) for k, v in (run.get("env") or {}).items()}}


def _running(cid: str) -> None:
    """Abort a wait when the container has exited: waiting longer cannot help."""
    state = dk.inspect(cid, "container")["State"]
    if not state["Running"]:
        raise waiting.Abort(f"container exited ({state['ExitCode']}):\n{dk.describe_container(cid)}")


def wait_http_ok(cid: str, port: int | str, path: str, deadline_s: float) -> float:
    """Seconds until the container's published `port` answers 200 on `path`; fails with its logs otherwise."""

    def answered() -> bool:
        _running(cid)
        status, body = http_get(f"http://127.0.0.1:{dk.host_port(cid, port)}{path}")
        if status != 200:
            raise OSError(f"HTTP {status}: {body[:200]}")
        return True

    return waiting.until(
        answered,
        timeout=deadline_s,
        what=f"port {port}{path} to answer 200",
        retry_on=(OSError, dk.DockerError),
        details=lambda: dk.describe_container(cid),
    ).seconds


def wait_healthy(cid: str, deadline_s: float) -> float:
    """Seconds until the container's HEALTHCHECK reports healthy; fails at once when it turns unhealthy."""

    def healthy() -> bool:
        health = dk.inspect(cid, "container")["State"].get("Health") or {}
        if health.get("Status") == "unhealthy":
            raise waiting.Abort(f"HEALTHCHECK unhealthy; last probes: {health.get('Log', [])[-2:]}")
        return health.get("Status") == "healthy"

    return waiting.until(
        healthy,
        timeout=deadline_s,
        what="HEALTHCHECK to report healthy",
        interval=0.25,
        details=lambda: dk.describe_container(cid),
    ).seconds


def process_uid(cid: str) -> int:
    # Engine 26 needs a pid column in `docker top` options; PID 1 of the container comes first
    out = dk.docker("top", cid, "-eo", "pid,uid,comm", timeout=30).stdout.splitlines()
    return int(out[1].split()[1])


def copy_out(cid: str, path: str, dest: Path) -> Path:
    target = dest / Path(path).name
    dk.docker("cp", "-L", f"{cid}:{path}", str(target), timeout=60)
    return target


def postgres_bin() -> Path:
    """The directory of PostgreSQL's server binaries (Debian/Ubuntu: /usr/lib/postgresql/N/bin),
    the newest installed; SNIPCHECK_PG_BIN overrides."""
    override = os.environ.get("SNIPCHECK_PG_BIN")
    if override:
        return Path(override)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


def tcp_listeners(pid: int) -> list[str]:
    """The TCP sockets `pid` listens on (its socket inodes looked up in /proc/net/tcp and tcp6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.append(f"{table} {fields[1]}")
    return found


def tier_of(item: pytest.Item) -> str:
    for tier in TIERS:
        if item.get_closest_marker(tier):
            return tier
    return "unmarked"


def is_worker(config: pytest.Config) -> bool:
    """Is this an xdist worker (the controller writes the report and prints the summary)?"""
    return hasattr(config, "workerinput")


def clone_of_checkout(dest: Path, commit: bool = False) -> Path:
    """A clone of this checkout's HEAD with the working tree's changes (what a contributor runs), sharing
    this checkout's venv; with `commit`, those changes are committed in the clone (so a later commit there
    has HEAD~1 = this working tree)."""
    git = ["git", "-c", "user.email=suite@example.invalid", "-c", "user.name=suite"]
    subprocess.run(["git", "clone", "-q", "--shared", str(ROOT), str(dest)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for line in status.splitlines():
        path = line[3:].split(" -> ")[-1]
        if (ROOT / path).is_file():
            (dest / path).parent.mkdir(parents=True, exist_ok=True)
            (dest / path).write_bytes((ROOT / path).read_bytes())
        elif line[:2].strip() == "D":
            (dest / path).unlink(missing_ok=True)
    if status and commit:
        subprocess.run([*git, "add", "-A"], cwd=dest, check=True, capture_output=True)
        subprocess.run([*git, "commit", "-q", "-m", "the working tree"], cwd=dest, check=True, capture_output=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest
