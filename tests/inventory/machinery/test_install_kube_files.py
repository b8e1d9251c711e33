"""What scripts/install-kube.sh leaves and replaces on disk: its partial binaries (.NAME.PID in the cache)
go when it ends, even killed, and a killed run's go once that pid runs no more (review L3); it links the
binaries into TOOLS_BIN but never over a file that is not a link into its own cache, so
TOOLS_BIN=/usr/local/bin cannot replace the system's kubectl (review L9).
The script runs for real against stand-ins: a cache and TOOLS_BIN of the test's own, and a `go`, an
`etcd` and cached binaries that only print their versions."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

INSTALL_KUBE = SCRIPTS / "install-kube.sh"
VERSION = re.search(
    r"^require k8s\.io/kubernetes (v\S+)$", (SCRIPTS / "kube" / "go.mod").read_text(encoding="utf-8"), re.M
).group(1)  # type: ignore[union-attr]
# `go build ... -o OUT` writes OUT and then the run is stopped as test.sh stops a background build:
# SIGTERM to the whole process group
GO = """#!/bin/bash
case "$1" in
  version) echo "go version go1.26.0 linux/amd64" ;;
  env) echo go1.26.0 ;;
  build) while [ "$1" != -o ]; do shift; done; echo partial >"$2"; kill -TERM 0; sleep 5 ;;
esac
"""
ETCD = '#!/bin/sh\necho "etcd Version: 3.4.30"\n'


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


class Stage:
    """A cache with the three binaries "built" (stand-ins printing the pinned version), a TOOLS_BIN, and
    stand-in go and etcd on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.cache_root = tmp_path / "cache"
        self.cache = self.cache_root / "kube" / VERSION
        self.cache.mkdir(parents=True)
        self.tools_bin = tmp_path / "tools-bin"
        self.tools_bin.mkdir()
        stand_ins = tmp_path / "stand-ins"
        stand_ins.mkdir()
        executable(stand_ins / "go", GO)
        executable(stand_ins / "etcd", ETCD)
        sums = []
        for name in ("kube-apiserver", "kube-controller-manager", "kubectl"):
            binary = executable(self.cache / name, f'#!/bin/sh\necho "Kubernetes {VERSION}"\n')
            sums.append(f"{hashlib.sha256(binary.read_bytes()).hexdigest()}  {name}\n")
        (self.cache / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")  # as if this script built them
        self.env = {
            **os.environ,
            "PATH": f"{stand_ins}:{os.environ['PATH']}",
            "SNIPCHECK_CACHE": str(self.cache_root),
            "TOOLS_BIN": str(self.tools_bin),
            "SNIPCHECK_NODE": "0",
        }

    def run(self) -> subprocess.CompletedProcess[str]:
        """install-kube.sh in a session of its own (as setup.sh's background build), so the stand-in go's
        SIGTERM to its group reaches only the script and its children."""
        return subprocess.run(
            ["bash", str(INSTALL_KUBE)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            start_new_session=True,
        )


@pytest.fixture
def stage(tmp_path: Path) -> Stage:
    return Stage(tmp_path)


@pytest.fixture
def canary_process() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_links_the_cached_binaries(stage: Stage) -> None:
    done = stage.run()
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("kube-apiserver", "kube-controller-manager", "kubectl"):
        assert (stage.tools_bin / name).readlink() == stage.cache / name


def test_a_link_of_an_earlier_version_in_the_cache_is_replaced(stage: Stage) -> None:
    (stage.tools_bin / "kubectl").symlink_to(stage.cache_root / "kube" / "v1.0.0" / "kubectl")
    done = stage.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert (stage.tools_bin / "kubectl").readlink() == stage.cache / "kubectl"


def test_a_kubectl_that_is_not_ours_is_never_replaced(stage: Stage, tmp_path: Path) -> None:
    """TOOLS_BIN=/usr/local/bin (install-tools.sh suggests it) holds the system's own kubectl."""
    system_kubectl = executable(stage.tools_bin / "kubectl", "#!/bin/sh\necho the system's kubectl\n")
    done = stage.run()
    assert done.returncode != 0, "install-kube.sh replaced a kubectl that is not its own"
    assert "is not a link into" in done.stdout and "not replacing it" in done.stdout, done.stdout
    assert not system_kubectl.is_symlink()
    assert system_kubectl.read_text(encoding="utf-8") == "#!/bin/sh\necho the system's kubectl\n"


def test_a_link_elsewhere_is_never_replaced(stage: Stage, tmp_path: Path) -> None:
    elsewhere = executable(tmp_path / "elsewhere-kubectl", "#!/bin/sh\n")
    (stage.tools_bin / "kubectl").symlink_to(elsewhere)
    done = stage.run()
    assert done.returncode != 0 and "not replacing it" in done.stdout, done.stdout
    assert (stage.tools_bin / "kubectl").readlink() == elsewhere


def test_a_stopped_build_leaves_no_partial_binary(stage: Stage) -> None:
    (stage.cache / "kubectl").unlink()  # to be built: the stand-in go writes .kubectl.PID, then the run is stopped
    done = stage.run()
    assert "building kubectl" in done.stdout, done.stdout
    left = sorted(p.name for p in stage.cache.glob(".*"))
    assert left == [], f"a stopped build left {left} in the cache"
    assert done.returncode == 128 + signal.SIGTERM, done.stdout + done.stderr


def test_only_partials_of_runs_that_ended_are_removed(stage: Stage, canary_process: subprocess.Popen[bytes]) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    killed = executable(stage.cache / f".kube-apiserver.{ended.pid}", "partial")  # a run killed with SIGKILL
    running = executable(stage.cache / f".kubectl.{canary_process.pid}", "partial")  # a run still building
    done = stage.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert not killed.exists(), "a killed run's partial binary stayed"
    assert running.exists(), "the partial binary of a run still going was removed"
