"""The cluster tier waits for a background build of the Kubernetes binaries (scripts/setup.sh starts one
beside the other tiers on a cold machine) and reports its failure with the log, never a hang."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck import kubeapi

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]


class Background:
    """Stand-ins for the background build: processes that run a Python snippet in `dir`."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.procs: list[subprocess.Popen] = []

    def start(self, script: str) -> None:
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=self.dir)
        self.procs.append(proc)
        (self.dir / "install-kube.pid").write_text(str(proc.pid))


@pytest.fixture
def background(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Background]:
    for name in ("PID", "STATUS", "LOG"):
        monkeypatch.setattr(kubeapi, f"BACKGROUND_{name}", tmp_path / f"install-kube.{name.lower()}")
    bg = Background(tmp_path)
    yield bg
    for p in bg.procs:
        p.kill()
        p.wait()


def test_no_background_build_means_nothing_to_wait_for(background: Background) -> None:
    assert kubeapi.wait_for_background_build(timeout=5) == ""


def test_waits_until_the_build_succeeds(background: Background) -> None:
    background.start("import time, pathlib; time.sleep(1.5); pathlib.Path('install-kube.status').write_text('0')")
    assert kubeapi.wait_for_background_build(timeout=30) == ""
    assert (background.dir / "install-kube.status").read_text() == "0"


def test_a_failed_build_is_reported_with_its_log(background: Background) -> None:
    (background.dir / "install-kube.log").write_text("[install-kube] ERROR: go build .../cmd/kubectl failed\n")
    background.start("import pathlib; pathlib.Path('install-kube.status').write_text('1')")
    problem = kubeapi.wait_for_background_build(timeout=30)
    assert "failed in the background (exit 1)" in problem and "cmd/kubectl failed" in problem


def test_a_build_that_died_without_status_is_reported(background: Background) -> None:
    background.start("pass")
    problem = kubeapi.wait_for_background_build(timeout=30)
    assert "ended without writing" in problem
