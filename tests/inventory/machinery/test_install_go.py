"""scripts/install-go.sh unpacks the Go toolchain beside build/tools/go and renames it into place when
complete, so an install killed halfway never leaves a half Go that the next run accepts (review L2).
Run on a copy of the script in a checkout of its own, with a stand-in toolchain zip served by a file://
module proxy; the machine's own Go is left out (SNIPCHECK_NO_MACHINE_GO=1)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

VERSION = "1.26.0"
PREFIX = f"golang.org/toolchain@v0.0.1-go{VERSION}.linux-amd64/"
FAKE_GO = f"""#!/bin/sh
case "$1" in
  env) echo go{VERSION} ;;
  version) echo "go version go{VERSION} linux/amd64" ;;
esac
"""
# a stand-in for python3 that unpacks only bin/go and then kills the install (as SIGKILL or a power cut would)
KILLED_MIDWAY = """#!/bin/sh
mkdir -p "$3/bin" && cp "$FAKE_GO" "$3/bin/go" && chmod 755 "$3/bin/go"
kill -9 "$PPID"
"""


def checkout(tmp_path: Path) -> Path:
    """A checkout with install-go.sh, the recipes it reads the pin from, and a module proxy with the zip."""
    root = tmp_path / "checkout"
    (root / "scripts" / "snipcheck" / "harness" / "imagekit").mkdir(parents=True)
    shutil.copy(SCRIPTS / "install-go.sh", root / "scripts" / "install-go.sh")
    archive = tmp_path / "go.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(PREFIX + "bin/go", FAKE_GO)
        z.writestr(PREFIX + "pkg/tool/linux_amd64/compile", "#!/bin/sh\n")
        z.writestr(PREFIX + "src/runtime/proc.go", "package runtime\n")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    (root / "scripts" / "snipcheck" / "harness" / "imagekit" / "recipes.py").write_text(
        f'GO_VERSION = "{VERSION}"\nGO_ZIP_SHA256 = "{sha}"\n', encoding="utf-8"
    )
    proxied = tmp_path / "proxy" / "golang.org" / "toolchain" / "@v" / f"v0.0.1-go{VERSION}.linux-amd64.zip"
    proxied.parent.mkdir(parents=True)
    archive.rename(proxied)
    return root


def install(root: Path, tmp_path: Path, first: Path | None = None) -> subprocess.CompletedProcess[str]:
    """install-go.sh in `root`, with no Go of the machine (not on PATH, SNIPCHECK_NO_MACHINE_GO=1) and
    `first` (stand-ins) at the front of PATH."""
    path = [d for d in os.environ["PATH"].split(":") if d and not (Path(d) / "go").exists()]
    env = {
        **os.environ,
        "PATH": ":".join([str(first), *path] if first else path),
        "GOPROXY": f"file://{tmp_path / 'proxy'}",
        "SNIPCHECK_NO_MACHINE_GO": "1",
        "FAKE_GO": str(tmp_path / "fake-go"),
    }
    return subprocess.run(
        ["bash", str(root / "scripts" / "install-go.sh")], env=env, capture_output=True, text=True, timeout=30
    )


def test_an_install_killed_halfway_is_not_taken_by_the_next_run(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    (tmp_path / "fake-go").write_text(FAKE_GO, encoding="utf-8")
    stand_in = tmp_path / "killer"
    stand_in.mkdir()
    (stand_in / "python3").write_text(KILLED_MIDWAY, encoding="utf-8")
    (stand_in / "python3").chmod(0o755)
    killed = install(root, tmp_path, first=stand_in)
    assert killed.returncode == -9, killed  # the install died with only bin/go unpacked
    again = install(root, tmp_path)
    assert again.returncode == 0, again.stderr
    go = root / "build" / "tools" / "go"
    assert again.stdout.strip() == str(go / "bin")
    assert (go / "pkg" / "tool" / "linux_amd64" / "compile").is_file(), "the next run took the half Go"
    assert (go / "src" / "runtime" / "proc.go").is_file()
    assert [p.name for p in (root / "build" / "tools").iterdir()] == ["go"], "the killed run's leftover stayed"


def test_a_complete_install_is_reused(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    assert install(root, tmp_path).returncode == 0
    (tmp_path / "proxy").rename(tmp_path / "offline")  # nothing to fetch now: the install must be reused
    again = install(root, tmp_path)
    assert again.returncode == 0 and again.stdout.strip() == str(root / "build" / "tools" / "go" / "bin"), again


def test_only_the_leftovers_of_installs_no_longer_running_are_removed(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    tools = root / "build" / "tools"
    tools.mkdir(parents=True)
    ended = subprocess.Popen(["true"])
    ended.wait()
    canary = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        left = tools / f".go.{ended.pid}.abcdef"  # an install that was killed
        busy = tools / f".go.{canary.pid}.ghijkl"  # another install, still running
        for d in (left, busy):
            (d / "bin").mkdir(parents=True)
        done = install(root, tmp_path)
        assert done.returncode == 0, done.stderr
        assert not left.exists() and (busy / "bin").is_dir()
    finally:
        canary.kill()
        canary.wait()
