"""snipcheck.harness.docker.imagefs.stream, with a stand-in `docker` on PATH (no engine needed): a reader that stops
early ends the command at once (a `docker save` of a 1 GB image would otherwise run to its end, or
block on the full pipe until the timeout), and a command that fails is an error with what it said."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from snipcheck.harness.docker import cli as dk
from snipcheck.harness.docker import imagefs as docker_imagefs

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` that runs the shell code in $FAKE_DOCKER and records its pid."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker"
    script.write_text(f'#!/bin/sh\necho $$ > "{tmp_path}/pid"\neval "$FAKE_DOCKER"\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return tmp_path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(20)  # without the kill, the close waits on the blocked writer: this timeout ends it
def test_a_reader_that_stops_early_ends_the_command(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # writes without end and ignores SIGPIPE: only a kill ends it (the pipe fills, then it blocks)
    monkeypatch.setenv("FAKE_DOCKER", "trap '' PIPE; while :; do echo 0123456789abcdef; done")
    started = time.monotonic()
    with docker_imagefs.stream("save", "some/image", timeout=5) as out:
        assert out.read(16) == b"0123456789abcdef"
    took = time.monotonic() - started
    pid = int((fake_docker / "pid").read_text())
    assert not alive(pid), f"docker (pid {pid}) outlived its reader"
    assert took < 3, f"the command ended only by the {5} s timeout ({took:.1f} s), not when the reader stopped"


def test_a_command_read_to_its_end_that_fails_is_an_error(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCKER", "echo partial; echo 'Error: No such image: some/image' >&2; exit 1")
    with (
        pytest.raises(dk.DockerError, match="No such image: some/image"),
        docker_imagefs.stream("save", "x", timeout=5) as out,
    ):
        assert out.read() == b"partial\n"


def test_a_command_read_to_its_end_that_succeeds(fake_docker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCKER", "printf 'tar bytes'")
    with docker_imagefs.stream("cp", "cid:/", "-", timeout=5) as out:
        assert out.read() == b"tar bytes"
