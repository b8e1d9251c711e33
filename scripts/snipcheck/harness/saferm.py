"""The one way the harness deletes a directory tree that may hold a mount or came from outside.

    from snipcheck.harness import saferm
    saferm.remove_tree("/tmp/snipcheck-rootfs.x1y2z3", unmount=True)

    python3 scripts/snipcheck/harness/saferm.py [--unmount] PATH...     # from shell, no venv needed
    python3 scripts/snipcheck/harness/saferm.py --mounts PATH           # the mount points at or under PATH

`remove_tree(path, unmount=False)`:
- refuses "", "/", a relative path and a path whose top is a symbolic link (the caller decides what a
  link means);
- reads /proc/self/mountinfo: a mount point at or under the path is unmounted first with unmount=True
  (deepest first, `umount`, then `umount -l`; refused if any is still there), else the removal is refused
  naming the mount points;
- removes the tree through directory file descriptors: symbolic links are removed, never followed, and a
  directory on another device or mount than the top (a mount that appeared after the check) stops the
  removal instead of being entered;
- does nothing when the path does not exist.
Every refusal raises `SafeRmError` (an OSError) naming the path and what to do.
Standard library only, and no other snipcheck module: shell scripts run this file with the system python3.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

MOUNTINFO = "/proc/self/mountinfo"
_ESCAPE = re.compile(r"\\([0-7]{3})")


class SafeRmError(OSError):
    """A removal refused or stopped; the message names the path and what to do."""

    def __init__(self, path: str, problem: str, todo: str) -> None:
        self.message = f"not removing {path!r}: {problem} — {todo}"
        super().__init__(self.message)
        self.filename = path

    def __str__(self) -> str:
        return self.message


def _unescape(field: str) -> str:
    """A mountinfo field: the kernel writes space, tab, newline and backslash as \\040, \\011, \\012, \\134."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def mount_points(mountinfo: str = MOUNTINFO) -> list[str]:
    """Every mount point of this process's mount namespace (field 5 of /proc/self/mountinfo)."""
    with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
        return [_unescape(line.split()[4]) for line in f if len(line.split()) > 4]


def mounts_under(path: str, mountinfo: str = MOUNTINFO) -> list[str]:
    """The mount points at or under the absolute, symlink-free `path`, deepest first."""
    prefix = path.rstrip("/") + "/"
    found = {m for m in mount_points(mountinfo) if m == path or m.startswith(prefix)}
    return sorted(found, key=lambda m: (-m.count("/"), m))


def _checked_top(path: str | os.PathLike[str]) -> str | None:
    """The path to remove with its parents' links resolved (mountinfo names real paths), or None when it
    does not exist; refuses what must never be removed."""
    raw = os.fspath(path)
    if not raw:
        raise SafeRmError(raw, "the path is empty", "pass the absolute path of the directory to remove")
    if not Path(raw).is_absolute():
        raise SafeRmError(raw, "the path is relative", "pass an absolute path")
    norm = os.path.normpath(raw)
    if norm.strip("/") == "":
        raise SafeRmError(raw, "that is the root directory", "pass the directory to remove, never /")
    try:
        st = os.lstat(norm)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise SafeRmError(raw, "it is a symbolic link", "remove the link itself (os.unlink) if that is meant")
    top = str(Path(norm).parent.resolve() / Path(norm).name)
    if top.strip("/") == "":
        raise SafeRmError(raw, f"it resolves to {top}", "pass the directory to remove, never /")
    return top


def _unmount(points: list[str]) -> None:
    for point in points:
        print(f"[saferm] unmounting {point}", file=sys.stderr)
        done = subprocess.run(["umount", point], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"[saferm] umount {point}: {done.stderr.strip()}; detaching it (umount -l)", file=sys.stderr)
            subprocess.run(["umount", "-l", point], capture_output=True, text=True, check=False)


def _clear_mounts(top: str, unmount: bool) -> None:
    points = mounts_under(top)
    if points and not unmount:
        raise SafeRmError(
            top,
            f"mount points under it: {', '.join(points)}",
            "unmount them first (or call with unmount=True / --unmount)",
        )
    for _ in range(3):  # mounts can be stacked on one mount point: each round takes one layer
        if not points:
            return
        _unmount(points)
        points = mounts_under(top)
    raise SafeRmError(top, f"still mounted after umount and umount -l: {', '.join(points)}", "unmount them by hand")


def _mount_id(fd: int) -> str | None:
    """The mount an open file lives on (/proc/self/fdinfo: mnt_id), None where the kernel does not say."""
    try:
        with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as f:
            for line in f:
                if line.startswith("mnt_id:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _clear_dir(fd: int, where: str, device: int, mount: str | None) -> None:
    """Remove everything inside the open directory `fd` (shown as `where`), staying on `device`/`mount`."""
    for name in os.listdir(fd):
        st = os.lstat(name, dir_fd=fd)
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=fd)
            continue
        sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
        try:
            inner = os.fstat(sub)
            if inner.st_dev != device or _mount_id(sub) != mount:
                raise SafeRmError(
                    f"{where}/{name}",
                    "it is on another mount than the tree it is in (mounted after the check?)",
                    "unmount it and remove the tree again",
                )
            _clear_dir(sub, f"{where}/{name}", device, mount)
        finally:
            os.close(sub)
        os.rmdir(name, dir_fd=fd)


def remove_tree(path: str | os.PathLike[str], *, unmount: bool = False) -> None:
    """Remove `path` and everything under it, without following links or crossing mounts (module doc)."""
    top = _checked_top(path)
    if top is None:
        return
    _clear_mounts(top, unmount)
    if not stat.S_ISDIR(os.lstat(top).st_mode):
        Path(top).unlink()
        return
    fd = os.open(top, _DIR_FLAGS)
    try:
        _clear_dir(fd, top, os.fstat(fd).st_dev, _mount_id(fd))
    finally:
        os.close(fd)
    Path(top).rmdir()


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--mounts":  # what is mounted at or under PATH, one a line
        try:
            top = _checked_top(argv[1])
        except OSError as exc:
            print(f"saferm: {exc}", file=sys.stderr)
            return 1
        for point in mounts_under(top) if top else []:
            print(point)
        return 0
    unmount = "--unmount" in argv
    paths = [a for a in argv if a != "--unmount"]
    if not paths or any(p.startswith("-") for p in paths):
        print("usage: saferm.py [--unmount] PATH... | saferm.py --mounts PATH", file=sys.stderr)
        return 2
    for path in paths:
        try:
            remove_tree(path, unmount=unmount)
        except OSError as exc:
            print(f"saferm: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
