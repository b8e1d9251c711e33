"""The scripts that build Debian root filesystems delete only what they made and never through a mount
(review M2, L9): debian_sources refuses an empty or / root filesystem (it would rewrite this machine's
apt sources); mkrootfs.sh's cleanup unmounts what debootstrap left mounted before it deletes; measure.sh
deletes only a work directory it made. Each test works in directories of its own and checks a canary."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.harness import saferm
from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

SOURCES = SCRIPTS / "imagekit" / "debian" / "sources.sh"
MKROOTFS = SCRIPTS / "imagekit" / "debian" / "mkrootfs.sh"
MEASURE = SCRIPTS / "fresh-machine" / "measure.sh"
as_root = pytest.mark.root(reason="mount needs root (the other tests here run without)")


def canary(where: Path) -> Path:
    where.mkdir(parents=True)
    (where / "keep").write_text("canary\n", encoding="utf-8")
    return where


def intact(directory: Path) -> bool:
    return (directory / "keep").is_file() and (directory / "keep").read_text(encoding="utf-8") == "canary\n"


def unmount_all_under(path: Path) -> None:
    """Whatever a test (or the script under test) left mounted under `path`, deepest first."""
    for point in saferm.mounts_under(str(path)):
        subprocess.run(["umount", "-l", point], check=False)


def debian_sources(rootfs: str) -> subprocess.CompletedProcess[str]:
    script = f'set -euo pipefail; . "{SOURCES}"; debian_sources "$1" bookworm http://m http://s; echo written'
    return subprocess.run(["bash", "-c", script, "bash", rootfs], capture_output=True, text=True, timeout=30)


def test_debian_sources_writes_into_the_root_filesystem_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "etc" / "apt" / "sources.list.d").mkdir(parents=True)
    (tmp_path / "etc" / "apt" / "sources.list").write_text("deb http://old main\n", encoding="utf-8")
    done = debian_sources(str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Suites: bookworm bookworm-updates" in (tmp_path / "etc/apt/sources.list.d/debian.sources").read_text()
    assert not (tmp_path / "etc" / "apt" / "sources.list").exists()


@as_root
@pytest.mark.parametrize("rootfs", ["", "/", "//", "/."])
def test_debian_sources_refuses_an_empty_or_root_filesystem(rootfs: str) -> None:
    """Run where /etc/apt is a tmpfs of the test's own (a mount namespace), so that a failing check would
    rewrite the canary and never this machine's apt sources."""
    script = (
        "set -e; mount -t tmpfs snipcheck-test /etc/apt; mkdir /etc/apt/sources.list.d;"
        " echo canary >/etc/apt/sources.list;"
        f' . "{SOURCES}"; status=0; debian_sources "$1" bookworm http://m http://s || status=$?;'
        ' echo "status=$status"; cat /etc/apt/sources.list; ls /etc/apt/sources.list.d'
    )
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "bash", "-c", script, "bash", rootfs],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if "status=" not in done.stdout:
        pytest.skip(f"no mount namespace with a tmpfs on /etc/apt here: {done.stderr.strip()}")
    assert done.stdout.split() == ["status=1", "canary"], f"debian_sources {rootfs!r} wrote the apt sources: {done}"
    assert "refusing the root filesystem" in done.stderr, done.stderr


@pytest.fixture
def work_dirs() -> Iterator[list[Path]]:
    """The /tmp/snipcheck-rootfs.* directories a test's mkrootfs.sh run makes: unmounted and removed after."""
    made: list[Path] = []
    try:
        yield made
    finally:
        for work in made:
            unmount_all_under(work)
            saferm.remove_tree(work, unmount=True)


@as_root
def test_mkrootfs_cleanup_unmounts_what_debootstrap_left_before_deleting(tmp_path: Path, work_dirs: list[Path]) -> None:
    """A stand-in debootstrap bind-mounts a canary into the new root's dev/pts (as debootstrap does with the
    host's /dev/pts in a container) and the build then fails (chroot finds no apt-get): the cleanup must
    unmount it, and proc, before it removes the tree."""
    keep = canary(tmp_path / "canary")
    record = tmp_path / "rootfs-path"
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    debootstrap = stand_ins / "debootstrap"
    debootstrap.write_text(
        # debootstrap [--OPTIONS...] SUITE TARGET MIRROR: the target is the second argument that is no option
        '#!/bin/bash\nset -e\nargs=(); for a; do [[ $a == --* ]] || args+=("$a"); done; rootfs=${args[1]}\n'
        f'echo "$rootfs" >"{record}"\n'
        'mkdir -p "$rootfs"/etc/apt/apt.conf.d "$rootfs"/etc/apt/sources.list.d "$rootfs"/etc/dpkg/dpkg.cfg.d'
        ' "$rootfs"/usr/share/doc "$rootfs"/proc "$rootfs"/sys "$rootfs"/dev/pts\n'
        f'mount --bind "{keep}" "$rootfs/dev/pts"\n',
        encoding="utf-8",
    )
    debootstrap.chmod(0o755)
    env = {**os.environ, "PATH": f"{stand_ins}:{os.environ['PATH']}"}
    try:
        done = subprocess.run(
            ["bash", str(MKROOTFS), "bookworm", "http://m", "http://s", str(tmp_path / "out.tar")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        if record.exists():
            work_dirs.append(Path(record.read_text().strip()).parent)
    assert record.exists(), f"the stand-in debootstrap did not run: {done.stderr}"
    work = work_dirs[0]
    assert done.returncode != 0, "the stand-in root filesystem cannot be finished"
    assert intact(keep), f"mkrootfs.sh's cleanup deleted through a mount it left: {done.stderr}"
    assert not saferm.mounts_under(str(work)), "mkrootfs.sh left mounts"
    assert not work.exists(), f"mkrootfs.sh left {work}: {done.stderr}"


def measure_clean(work: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """measure.sh --clean on `work`, run in `cwd` (a relative path would name a directory there)."""
    env = {**os.environ, "SNIPCHECK_FRESH_DIR": work}
    return subprocess.run(
        ["bash", str(MEASURE), "--clean"], env=env, cwd=cwd, capture_output=True, text=True, timeout=30
    )


def test_measure_clean_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    keep = canary(tmp_path / "someone-elses")
    done = measure_clean(str(keep), tmp_path)
    assert done.returncode == 1 and "was not made by this script" in done.stdout, done
    assert intact(keep)


def test_measure_refuses_a_relative_work_directory(tmp_path: Path) -> None:
    done = measure_clean("relative/dir", tmp_path)
    assert done.returncode == 1 and "not an absolute path" in done.stdout, done


def test_measure_clean_removes_its_own_directory(tmp_path: Path) -> None:
    work = tmp_path / "fresh"
    (work / "userland" / "proc").mkdir(parents=True)
    (work / ".snipcheck-fresh-dir").touch()
    done = measure_clean(str(work), tmp_path)
    assert done.returncode == 0, done
    assert not work.exists()


@as_root
def test_measure_clean_unmounts_the_userlands_proc_first(tmp_path: Path) -> None:
    """A killed measurement leaves the userland's proc mounted: --clean must not delete through it."""
    keep = canary(tmp_path / "canary")
    work = tmp_path / "fresh"
    (work / "userland" / "proc").mkdir(parents=True)
    (work / ".snipcheck-fresh-dir").touch()
    subprocess.run(["mount", "--bind", str(keep), str(work / "userland" / "proc")], check=True)
    try:
        done = measure_clean(str(work), tmp_path)
        assert done.returncode == 0, done
        assert intact(keep) and not work.exists()
    finally:
        unmount_all_under(work)
