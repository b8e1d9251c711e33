"""Reading images without leaving anything behind: docker save and docker cp streamed, never written to disk
unless asked, and never through docker export.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

from .cli import Result, cli_env, create, remove_container


@contextmanager
def stream(*args: str, timeout: float = 600) -> Iterator[IO[bytes]]:
    """Run `docker ARGS...` and hand its stdout over as a stream, read once and never written to disk
    (`docker save` / `docker export` of a 1 GB image: the disk write and its writeback were most of the
    cost). A consumer that stops early ends the command; a command that fails raises DockerError."""
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        cmd = subprocess.Popen(["docker", *args], stdout=subprocess.PIPE, stderr=err, env=cli_env(None, False))
        timer = threading.Timer(timeout, cmd.kill)
        timer.start()
        finished = False
        try:
            assert cmd.stdout is not None
            yield cmd.stdout
            # what a tar reader leaves (end-of-archive padding) is read to the end; more than that
            # means the consumer stopped early (found what it looked for): the command is ended
            finished = len(cmd.stdout.read(1 << 20)) < 1 << 20
        finally:
            timer.cancel()
            if cmd.poll() is None and not finished:
                cmd.kill()
            cmd.wait()
            if cmd.stdout:
                cmd.stdout.close()
        err.seek(0)
        said = err.read().decode("utf-8", "replace")
        if finished and cmd.returncode != 0:
            Result(["docker", *args], cmd.returncode, "", said, time.monotonic() - started).check()


def image_contains(ref: str, needle: bytes) -> bool:
    """Is `needle` anywhere in the image: any layer's files or its config (`docker save`, streamed)?"""
    with stream("save", ref) as tar:
        return stream_contains(tar, needle)


def stream_contains(fh: IO[bytes], needle: bytes, chunk: int = 1 << 20) -> bool:
    """Does the rest of `fh` contain `needle`? Read in chunks that overlap by len(needle) - 1."""
    overlap = b""
    while block := fh.read(chunk):
        if needle in overlap + block:
            return True
        overlap = (overlap + block)[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False


# An image's filesystem is read through a created, never started container with `docker cp CID:/ -`,
# not `docker export`: Docker 26.1 leaves the container's overlay mount behind on every export, even
# after `docker rm`, and the mounts pin the deleted images' layers until the disk fills;
# tests/images/machinery/test_image_reading.py fails if reading leaves a mount. Names in the archive start with
# "/" (`/etc/passwd`).
def filesystem_stream(cid: str) -> AbstractContextManager[IO[bytes]]:
    """The container's whole filesystem as a tar stream (see stream)."""
    return stream("cp", f"{cid}:/", "-", timeout=300)


def fs_members(ref: str) -> list[tarfile.TarInfo]:
    """The entries of an image's filesystem (streamed: names relative to /, types and link targets,
    no contents)."""
    cid = create(ref)
    members = []
    try:
        with filesystem_stream(cid) as out, tarfile.open(fileobj=out, mode="r|") as tar:
            for m in tar:
                m.name = m.name.lstrip("/")
                if m.islnk():
                    m.linkname = m.linkname.lstrip("/")
                if m.name:
                    members.append(m)
        return members
    finally:
        remove_container(cid)


def export_fs(ref: str, dest: Path) -> Path:
    """Write an image's filesystem as a tar file (names start with "/"; see filesystem_stream)."""
    cid = create(ref)
    try:
        with filesystem_stream(cid) as out, dest.open("wb") as fh:
            shutil.copyfileobj(out, fh, 1 << 20)
    finally:
        remove_container(cid)
    return dest
