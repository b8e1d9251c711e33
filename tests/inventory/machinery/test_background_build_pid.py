"""build/install-kube.pid, the record of setup.sh's background build, makes scripts/test.sh signal a
process group, and the cluster tier wait for a process: only while it names that very build (same boot,
pid and start time, a group leader running install-kube.sh; snipcheck.harness.background). A stale record — a
bare pid, a pid another process has now, "0" — is removed and never acted on. Every test signals only
processes it started, each in a session of its own, and checks a canary."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.harness import background, procid
from snipcheck.harness.kube import controlplane as kubeapi
from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

TEST_SH = SCRIPTS / "test.sh"
BACKGROUND_PY = SCRIPTS / "snipcheck" / "harness" / "background.py"


class Procs:
    """Processes a test starts, each leading a session of its own; all killed at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL)
        self.started.append(proc)
        return proc

    def canary(self) -> subprocess.Popen[bytes]:
        """A live process that is not the build: what a stale record's pid may belong to now."""
        proc = self.start("sleep", "600")
        wait_for(lambda: procid.ProcId.of(proc.pid) is not None, "the canary to start")
        return proc

    def build(self, record: Path, name: str = "bash") -> subprocess.Popen[bytes]:
        """A stand-in for setup.sh's background build: a session leader whose command line names
        install-kube.sh and that records itself, as setup.sh's does."""
        script = f'python3 "{BACKGROUND_PY}" write "$1" $$ || exit 1; sleep 600; : scripts/install-kube.sh'
        proc = self.start(name, "-c", script, "bash", str(record))
        wait_for(record.exists, f"the stand-in build to write {record}")
        return proc

    def close(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for(ok, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not ok():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def alive(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is None


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory laid out like the checkout for test.sh's stop function: scripts/ and build/."""
    (tmp_path / "scripts").symlink_to(SCRIPTS)
    (tmp_path / "build").mkdir()
    return tmp_path


def stop_function() -> str:
    """scripts/test.sh's EXIT-trap function, as test.sh has it."""
    found = re.search(r"^stop_background_build\(\) \{\n.*?^\}\n", TEST_SH.read_text(encoding="utf-8"), re.M | re.S)
    assert found, f"{TEST_SH}: no stop_background_build() function"
    return found.group(0)


def run_stop(checkout: Path) -> subprocess.CompletedProcess[str]:
    """test.sh's trap logic in a bash of its own session (in the checkout), so a signal it sends to "its
    own group" can only hit that bash."""
    script = f"set -euo pipefail\n{stop_function()}stop_background_build\necho survived\n"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=30,
        start_new_session=True,
    )


def record_of(proc: subprocess.Popen[bytes]) -> procid.ProcId:
    ident = procid.ProcId.of(proc.pid)
    assert ident is not None
    return ident


def stale_records(canary: procid.ProcId) -> dict[str, str]:
    other_boot = "00000000-0000-4000-8000-000000000000"
    return {
        "bare pid (the old format)": f"{canary.pid}\n",
        "wrong start time": f"{canary.boot} {canary.pid} {canary.start + 1}\n",
        "another boot": f"{other_boot} {canary.pid} {canary.start}\n",
        "right pid, not the build": f"{canary}\n",
    }


@pytest.mark.parametrize("kind", list(stale_records(procid.ProcId("b" * 36, 2, 0))))
def test_a_stale_record_naming_a_live_process_is_not_signalled(kind: str, checkout: Path, procs: Procs) -> None:
    canary = procs.canary()
    record = checkout / "build" / "install-kube.pid"
    record.write_text(stale_records(record_of(canary))[kind])
    done = run_stop(checkout)
    assert done.returncode == 0 and "survived" in done.stdout, done
    time.sleep(0.2)  # a SIGTERM sent would have been delivered
    assert alive(canary), f"test.sh's trap signalled a process a stale record ({kind}) names"
    assert not record.exists(), "the stale record was left for the next run"
    assert "nothing to stop" in done.stderr, done.stderr


@pytest.mark.parametrize("content", ["0\n", "", "garbage\n", "0 0 0\n"])
def test_a_record_of_0_or_garbage_is_never_acted_on(content: str, checkout: Path) -> None:
    """`kill -- -0` would signal the trap's own process group (the run itself)."""
    record = checkout / "build" / "install-kube.pid"
    record.write_text(content)
    done = run_stop(checkout)
    assert done.returncode == 0 and "survived" in done.stdout, f"the trap signalled its own group: {done}"
    assert not record.exists()


def test_the_genuine_build_is_stopped(checkout: Path, procs: Procs) -> None:
    canary = procs.canary()
    record = checkout / "build" / "install-kube.pid"
    build = procs.build(record)
    assert background.is_running(record)
    done = run_stop(checkout)
    assert "stopped the unfinished background build" in done.stdout, done
    wait_for(lambda: build.poll() is not None and group_gone(build.pid), "the build's process group to end")
    assert build.returncode == -signal.SIGTERM
    assert alive(canary) and not record.exists()


def test_a_leader_whose_name_holds_parentheses_is_still_recognised(tmp_path: Path, procs: Procs) -> None:
    """/proc/PID/stat's field 2 is the command name in parentheses, which may hold spaces and ')'."""
    odd = tmp_path / "x) 1 2 (y"
    odd.symlink_to("/bin/bash")
    record = tmp_path / "install-kube.pid"
    procs.build(record, name=str(odd))
    assert background.is_running(record), background.check(record)


def test_forget_stale_keeps_a_running_build_and_removes_a_stale_record(tmp_path: Path, procs: Procs) -> None:
    """What test.sh runs first: a killed run's record is gone before anything could act on it."""
    canary, genuine, stale = procs.canary(), tmp_path / "genuine.pid", tmp_path / "stale.pid"
    procs.build(genuine)
    stale.write_text(f"{canary.pid}\n")
    for record in (genuine, stale):
        done = subprocess.run(["python3", str(BACKGROUND_PY), "forget-stale", str(record)], capture_output=True)
        assert done.returncode == 0, done
    assert genuine.exists() and not stale.exists() and alive(canary)


def test_write_refuses_pid_0_and_a_missing_process(tmp_path: Path) -> None:
    for pid in ("0", "1", "999999999"):
        done = subprocess.run(
            ["python3", str(BACKGROUND_PY), "write", str(tmp_path / "r.pid"), pid], capture_output=True, text=True
        )
        assert done.returncode == 1 and "cannot record the job" in done.stderr, done
    assert not (tmp_path / "r.pid").exists()


@pytest.fixture
def kube_background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PID", "STATUS", "LOG"):
        monkeypatch.setattr(kubeapi, f"BACKGROUND_{name}", tmp_path / f"install-kube.{name.lower()}")
    return tmp_path


def test_the_cluster_tier_does_not_wait_for_a_stale_record(kube_background: Path, procs: Procs) -> None:
    canary = procs.canary()
    kubeapi.BACKGROUND_PID.write_text(f"{canary.pid}\n")
    started = time.monotonic()
    problem = kubeapi.wait_for_background_build(timeout=20)
    assert time.monotonic() - started < 5, "waited for a process the record does not prove to be the build"
    assert "no background build of the Kubernetes binaries is running" in problem, problem
    assert alive(canary)


def test_the_cluster_tier_waits_for_the_genuine_build(kube_background: Path, procs: Procs) -> None:
    status = kube_background / "install-kube.status"
    script = f'python3 "{BACKGROUND_PY}" write "$1" $$ || exit 1; sleep 1.5; echo 0 >"$2"; : scripts/install-kube.sh'
    procs.start("bash", "-c", script, "bash", str(kubeapi.BACKGROUND_PID), str(status))
    wait_for(kubeapi.BACKGROUND_PID.exists, "the record")
    assert kubeapi.wait_for_background_build(timeout=30) == ""
    assert status.read_text() == "0\n"


def test_the_cluster_tier_reports_a_failed_or_vanished_build(kube_background: Path, procs: Procs) -> None:
    kubeapi.BACKGROUND_LOG.write_text("[install-kube] ERROR: go build .../cmd/kubectl failed\n")
    kubeapi.BACKGROUND_STATUS.write_text("1\n")
    problem = kubeapi.wait_for_background_build(timeout=5)
    assert "failed in the background (exit 1)" in problem and "cmd/kubectl failed" in problem
    kubeapi.BACKGROUND_STATUS.unlink()
    build = procs.build(kubeapi.BACKGROUND_PID)
    os.killpg(build.pid, signal.SIGKILL)  # killed before it wrote a status
    build.wait()
    assert "ended without writing" in kubeapi.wait_for_background_build(timeout=5)
