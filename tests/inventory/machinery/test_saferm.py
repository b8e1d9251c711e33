"""snipcheck.harness.saferm, the harness's one tree deletion: it never follows a link out of the tree, never
removes "/" or "", and never deletes through a mount (it refuses, or unmounts first when asked). Every
test deletes directories of its own and checks a canary outside them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.harness import saferm
from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

SAFERM = SCRIPTS / "snipcheck" / "harness" / "saferm.py"
needs_root = pytest.mark.root(reason="mount --bind needs root (the other saferm tests run)")


def canary(where: Path) -> Path:
    """A directory outside the tree under test with a file inside; `intact` says whether both survived."""
    where.mkdir()
    (where / "keep").write_text("canary\n", encoding="utf-8")
    return where


def intact(directory: Path) -> bool:
    return (directory / "keep").read_text(encoding="utf-8") == "canary\n"


def tree(top: Path) -> Path:
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "f").write_text("x", encoding="utf-8")
    (top / "g").write_text("y", encoding="utf-8")
    return top


def is_mounted(path: Path) -> bool:
    return str(path) in saferm.mount_points()


@pytest.fixture
def bind_mount(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A tree holding a bind mount of a canary directory; the mount is always undone."""
    keep = canary(tmp_path / "canary")
    top = tree(tmp_path / "tree")
    point = top / "a" / "mnt"
    point.mkdir()
    subprocess.run(["mount", "--bind", str(keep), str(point)], check=True)
    try:
        assert is_mounted(point)
        yield top, keep
    finally:
        while is_mounted(point):
            subprocess.run(["umount", "-l", str(point)], check=True)


@pytest.mark.parametrize("path", ["", "/", "//", "/./", "relative/dir"])
def test_refuses_root_empty_and_relative(path: str) -> None:
    with pytest.raises(saferm.SafeRmError, match="not removing"):
        saferm.remove_tree(path)


def test_refuses_a_symlink_top_and_keeps_its_target(tmp_path: Path) -> None:
    keep = canary(tmp_path / "canary")
    link = tmp_path / "link"
    link.symlink_to(keep)
    with pytest.raises(saferm.SafeRmError, match="symbolic link"):
        saferm.remove_tree(link)
    assert link.is_symlink() and intact(keep)


def test_removes_a_tree_without_following_its_links(tmp_path: Path) -> None:
    keep = canary(tmp_path / "canary")
    top = tree(tmp_path / "tree")
    (top / "a" / "to-dir").symlink_to(keep)
    (top / "a" / "b" / "to-file").symlink_to(keep / "keep")
    saferm.remove_tree(top)
    assert not top.exists() and intact(keep)


def test_a_missing_path_is_nothing_to_do(tmp_path: Path) -> None:
    saferm.remove_tree(tmp_path / "never-made")
    assert tmp_path.is_dir()


def test_mountinfo_escapes_are_read_back(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(
        "36 35 98:0 / /srv/my\\040dir rw - ext4 /dev/x rw\n"
        "37 35 98:0 / /srv/my\\040dir/in\\134side rw - ext4 /dev/x rw\n"
        "38 35 98:0 / /srv/my\\040dirt rw - ext4 /dev/x rw\n",
        encoding="utf-8",
    )
    assert saferm.mounts_under("/srv/my dir", str(info)) == ["/srv/my dir/in\\side", "/srv/my dir"]


@needs_root
def test_refuses_a_tree_with_a_mount_and_keeps_the_mounted_canary(bind_mount: tuple[Path, Path]) -> None:
    top, keep = bind_mount
    with pytest.raises(saferm.SafeRmError, match=r"mount points under it: .*/tree/a/mnt"):
        saferm.remove_tree(top)
    assert intact(keep) and (top / "g").is_file() and is_mounted(top / "a" / "mnt")


@needs_root
def test_unmounts_first_when_asked_and_keeps_the_canary(bind_mount: tuple[Path, Path]) -> None:
    top, keep = bind_mount
    saferm.remove_tree(top, unmount=True)
    assert not top.exists() and intact(keep)


@needs_root
def test_a_mount_the_check_missed_stops_the_removal(
    bind_mount: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mount made after mountinfo was read (here: hidden from the check) is never entered: the bind
    mount is on the same device as the tree, so the mount id (/proc/self/fdinfo) is what tells."""
    top, keep = bind_mount
    monkeypatch.setattr(saferm, "mounts_under", lambda path, mountinfo=saferm.MOUNTINFO: [])
    with pytest.raises(saferm.SafeRmError, match="another mount"):
        saferm.remove_tree(top)
    assert intact(keep)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    """saferm.py as shell scripts run it: the system's python3 (no venv), the file itself."""
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    return subprocess.run([python, str(SAFERM), *args], capture_output=True, text=True, timeout=30, env={})


def test_the_script_removes_a_tree_and_refuses_root(tmp_path: Path) -> None:
    keep = canary(tmp_path / "canary")
    top = tree(tmp_path / "tree")
    (top / "to-canary").symlink_to(keep)
    done = run_script(str(top))
    assert done.returncode == 0, done.stderr
    assert not top.exists() and intact(keep)
    refused = run_script("/")
    assert refused.returncode == 1 and "not removing '/'" in refused.stderr, refused.stderr
    assert run_script().returncode == 2


@needs_root
def test_the_script_lists_the_mounts_under_a_path(bind_mount: tuple[Path, Path]) -> None:
    """`saferm.py --mounts PATH`: what mkrootfs.sh checks before it deletes inside a root filesystem."""
    top, _ = bind_mount
    listed = run_script("--mounts", str(top))
    assert listed.returncode == 0 and listed.stdout.split() == [str(top / "a" / "mnt")], listed
    assert run_script("--mounts", str(top / "g")).stdout == ""
