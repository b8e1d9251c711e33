"""The project's scripts run apt-get one at a time: scripts/lib/apt.sh is the only caller of apt-get and
holds one lock, so the background build of the Kubernetes binaries (its apt steps at the end) never runs
apt beside the setup's own apt steps (apt-get update does not wait for apt's lists lock: it fails)."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
from pathlib import Path

import pytest

from snipcheck.paths import ROOT, SCRIPTS, project_shell_scripts
from support import require

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

APT_LIB = SCRIPTS / "lib" / "apt.sh"
SHELL_SCRIPTS = project_shell_scripts()
QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


def apt_get_commands(script: Path) -> list[str]:
    """Lines of SCRIPT that run the host's apt-get (comments, quoted messages and the apt of a chroot,
    another system's, left out)."""
    found = []
    for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1):
        code = QUOTED.sub('""', line).split("#", 1)[0]
        if re.search(r"(?<![\w-])apt-get(?![\w-])", code) and not re.match(r"\s*chroot\s", code):
            name = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script.name
            found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_only_the_apt_library_runs_apt_get() -> None:
    direct = [hit for script in SHELL_SCRIPTS if script != APT_LIB for hit in apt_get_commands(script)]
    hint = "run apt-get through apt_get (scripts/lib/apt.sh), which holds the project's lock"
    assert not direct, hint + ":\n" + "\n".join(direct)


def test_the_finder_sees_a_direct_call(tmp_path: Path) -> None:
    script = tmp_path / "x.sh"
    script.write_text(
        'log "as root: apt-get install x"  # apt-get in a message\nsudo apt-get update -qq\napt_get update\n'
        'chroot "$rootfs" apt-get clean\n',
        encoding="utf-8",
    )
    assert apt_get_commands(script) == ["x.sh:2: sudo apt-get update -qq"]


def run_apt_get(tmp_path: Path, *args: str, wait: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "SNIPCHECK_APT_LOCK": str(tmp_path / "apt.lock"),
        "SNIPCHECK_APT_LOCK_WAIT": str(wait),
    }
    script = f'. "{APT_LIB}"; apt_get "$@"'
    return subprocess.run(["bash", "-c", script, "apt_get", *args], env=env, capture_output=True, text=True, timeout=30)


def test_apt_get_waits_for_the_projects_lock(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "apt_get runs apt-get as root (sudo resets PATH, so the stand-in apt-get is not found)")
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path / "ran"}"\n', encoding="utf-8")
    fake.chmod(0o755)
    with open(tmp_path / "apt.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another apt step of ours is running
        blocked = run_apt_get(tmp_path, "update", "-qq", wait=1)
    assert blocked.returncode == 75, f"apt_get did not wait for the lock: {blocked.returncode} {blocked.stderr}"
    assert "waited 1 s for" in blocked.stderr and "apt-get update -qq not run" in blocked.stderr, blocked.stderr
    assert not (tmp_path / "ran").exists(), "apt-get ran while the lock was held"
    done = run_apt_get(tmp_path, "install", "-y", "etcd-server", wait=1)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ran").read_text().split() == ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "etcd-server"]
