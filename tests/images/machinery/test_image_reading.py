"""The streamed image readers the ❌/✅ scenarios rely on: `docker save` searched for a canary and the
filesystem listed (`docker cp CID:/ -`), both read once from the pipe and never written to disk.

A reader that misses what is there would let the ✅ secret-mount example pass while leaking, so each is
shown finding a planted needle — in a layer's file, across the boundary of two read chunks, and in the
image config — and not finding one that is absent; reading a filesystem leaves no mount behind
(`docker export` did, on every call).
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.docker import imagefs as docker_imagefs

pytestmark = [pytest.mark.images, pytest.mark.timeout(300)]


@pytest.mark.parametrize("offset", [0, 5, 6, 7, 10])
def test_a_needle_across_two_chunks_is_found(offset: int) -> None:
    needle = b"canary!"
    data = b"x" * offset + needle + b"y" * 20
    assert docker_imagefs.stream_contains(io.BytesIO(data), needle, chunk=8)
    assert not docker_imagefs.stream_contains(io.BytesIO(data.replace(needle, b"canar?!")), needle, chunk=8)


def test_a_needle_split_over_short_reads_is_found() -> None:
    class Trickle(io.RawIOBase):  # a pipe that hands out 3 bytes at a time
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            out, self.data = self.data[:3], self.data[3:]
            return out

    assert docker_imagefs.stream_contains(Trickle(b"abcdefcanary!ghi"), b"canary!", chunk=8)  # type: ignore[arg-type]


def test_save_and_export_are_read_as_streams(engine: None, tmp_path: Path) -> None:
    needle = f"snipcheck-needle-{secrets.token_hex(6)}"
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    # the needle in the second read chunk, 8 MiB after it: the reader stops early and ends `docker save`
    (ctx / "sub" / "big.bin").write_bytes(b"\0" * (1 << 20) + needle.encode() + b"\0" * (8 << 20))
    (ctx / "Dockerfile").write_text(f'FROM scratch\nCOPY sub /sub/\nLABEL note="{needle}-label"\nCMD ["/none"]\n')
    tag = f"snipcheck/image-reading:{dk.RUN_ID}"
    try:
        docker_buildkit.build(ctx, tag).check()
        assert docker_imagefs.image_contains(tag, needle.encode()), "the needle in a layer's file was not found"
        assert docker_imagefs.image_contains(tag, f"{needle}-label".encode()), (
            "the needle in the image config was not found"
        )
        assert not docker_imagefs.image_contains(tag, f"{needle}-absent".encode())
        names = {m.name for m in docker_imagefs.fs_members(tag) if m.isfile()}
        assert "sub/big.bin" in names, names
    finally:
        dk.remove_image(tag)
    # that stopping early ends `docker save`: tests/inventory/machinery/test_docker_stream.py (a stand-in that
    # would outlive its reader; a real one dies of SIGPIPE on its own, so it cannot show it)


def _mounted(path: str) -> bool:
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        return any(line.split()[4] == path for line in fh)


def _on_this_machine(path: Path) -> bool:
    """Is `path` a directory here? As a user (GitHub's `runner`) the engine's root-only /var/lib/docker
    cannot be entered: the refusal proves the path is here all the same (a remote engine's gives ENOENT).
    Its mounts are in this process's mountinfo either way."""
    try:
        return path.is_dir()
    except PermissionError:
        return True


def test_reading_a_filesystem_leaves_no_mount(engine: None, tmp_path: Path) -> None:
    """Docker 26.1 keeps a container's overlay mount after `docker export` (even after `docker rm`):
    hundreds of runs' worth pinned 40 GB. The reader must not: its container's rootfs is unmounted."""
    needle = f"snipcheck-needle-{secrets.token_hex(6)}"
    (tmp_path / "file").write_text(needle)
    (tmp_path / "Dockerfile").write_text('FROM scratch\nCOPY file /file\nCMD ["/none"]\n')
    tag = f"snipcheck/image-mount:{dk.RUN_ID}"
    docker_buildkit.build(tmp_path, tag).check()
    cid = dk.create(tag)
    try:
        merged = (dk.inspect(cid, "container").get("GraphDriver") or {}).get("Data", {}).get("MergedDir", "")
        if not merged or not _on_this_machine(Path(merged).parent):
            pytest.skip(f"the engine's storage is not on this machine (MergedDir {merged!r}): mounts not visible")
        with docker_imagefs.filesystem_stream(cid) as out:
            assert docker_imagefs.stream_contains(out, needle.encode()), (
                "the image's file was not in the filesystem read"
            )
        assert not _mounted(merged), f"reading the container's filesystem left {merged} mounted"
    finally:
        dk.remove_container(cid)
        dk.remove_image(tag)
