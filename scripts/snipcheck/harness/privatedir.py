"""Files that root acts on live where no other user can write: a private directory and files read from it
without following links.

A journal, a lock or a record that a root run trusts must not sit in a directory another user can write
(/run/lock and /tmp are mode 1777): there a user plants a file, or a symlink to /etc/sudoers, and root
acts on it. So:

- `ensure(path)` makes the directory (mode 0700) or checks the one that is there: a real directory (not
  a symlink), owned by the effective user, writable by nobody else, in a parent that only root (or the
  effective user) can write.
- `read(path)` opens a file in such a directory with O_NOFOLLOW and refuses one that is not a regular
  file of the effective user with one link and no group/other write bit.
- `write(path, data)` writes atomically through a temporary file of an unpredictable name in the same
  directory.

Stdlib only, and runnable from shell scripts before any virtualenv exists:
`python3 scripts/snipcheck/harness/privatedir.py /run/snipcheck` prints the directory once it is safe, or says
what is wrong (exit 1).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

# The directory of the project's host-wide state (the node journal, the apt lock): root's, on tmpfs.
STATE_DIR = Path("/run/snipcheck")


class UnsafePath(OSError):
    """A path a root run must not trust; the message names it and says what to do."""


def _check_dir(path: Path, st: os.stat_result) -> None:
    euid = os.geteuid()
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{path} is a symlink (to {path.readlink()}): remove it; the project makes the directory")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{path} is not a directory: remove it; the project makes the directory")
    if st.st_uid != euid:
        raise UnsafePath(
            f"{path} belongs to uid {st.st_uid}, not to this run's user (uid {euid}): someone else made it; "
            "check what it holds and remove it"
        )
    if st.st_mode & 0o022:
        raise UnsafePath(
            f"{path} can be written by group or others (mode {stat.S_IMODE(st.st_mode):o}): "
            f"check what it holds, then `chmod 700 {path}` or remove it"
        )


def _check_parent(path: Path) -> None:
    parent = path.parent
    st = parent.stat()
    if st.st_uid not in (0, os.geteuid()) or (st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX):
        raise UnsafePath(
            f"{parent} (the parent of {path}) can be written by other users: choose a directory only root owns"
        )


def ensure(path: Path = STATE_DIR) -> Path:
    """The directory `path`, made 0700 when missing; UnsafePath when it is there and not private."""
    _check_parent(path)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)  # the umask may only take bits away
    _check_dir(path, os.lstat(path))
    return path


def state_subdir(name: str) -> Path:
    """A private directory of the run's records, `name`: /run/snipcheck/<name> for root, else
    $XDG_RUNTIME_DIR/snipcheck-<name> (when it is the user's) or ~/.cache/snipcheck/<name>."""
    if os.geteuid() == 0:
        return ensure(ensure(STATE_DIR) / name)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute():
        with contextlib.suppress(OSError):
            st = Path(runtime).stat()
            if st.st_uid == os.geteuid() and not st.st_mode & 0o022:
                return ensure(Path(runtime) / f"snipcheck-{name}")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    return ensure(ensure(cache / "snipcheck") / name)


def read(path: Path) -> bytes:
    """The content of `path`, which must be a regular file of the effective user in a private directory
    (see `ensure`); FileNotFoundError when there is none; UnsafePath when it cannot be trusted."""
    _check_dir(path.parent, os.lstat(path.parent))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        if path.is_symlink():
            raise UnsafePath(f"{path} is a symlink: the project never writes one; remove it") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{path} is not a regular file: remove it")
        if st.st_uid != os.geteuid():
            raise UnsafePath(
                f"{path} belongs to uid {st.st_uid}, not to this run's user (uid {os.geteuid()}): "
                "the project did not write it; check it and remove it"
            )
        if st.st_mode & 0o022 or st.st_nlink != 1:
            raise UnsafePath(
                f"{path} is writable by others or has {st.st_nlink} links (mode {stat.S_IMODE(st.st_mode):o}): "
                "the project did not write it so; check it and remove it"
            )
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write(path: Path, data: bytes) -> None:
    """Write `path` atomically (a temporary file of an unpredictable name, fsync, rename) in its private
    directory (made when missing)."""
    ensure(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: privatedir.py DIRECTORY (made 0700 when missing, checked when there)", file=sys.stderr)
        return 2
    try:
        print(ensure(Path(argv[1])))
    except OSError as exc:
        print(f"privatedir: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
