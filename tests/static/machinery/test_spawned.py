"""snipcheck.harness.spawned: the servers of a killed run are found and stopped by the next run, and nothing else is.

Every "server" here is a copy of sleep that this test starts (a name no other process has); every owner
is a process of this test (a finished one plays the killed run). The registry is a private directory of
the test, never the host's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.harness import privatedir, spawned
from snipcheck.harness.procid import ProcId
from snipcheck.model.paths import SCRIPTS

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return privatedir.ensure(tmp_path / "registry")


@pytest.fixture
def fake_server(tmp_path: Path) -> Path:
    """A copy of sleep under a name of this test's own."""
    exe = tmp_path / "bin" / f"snipcheck-fake-server-{os.getpid()}"
    exe.parent.mkdir()
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", exe)
    return exe


@pytest.fixture
def started(fake_server: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test starts; whatever is still running at the end is killed (they are its own)."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


def run_server(exe: Path, started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(exe), "300"])
    started.append(proc)
    assert ProcId.of(proc.pid) is not None
    return proc


def dead_owner(exe: Path) -> ProcId:
    """The ProcId of a process that has finished: a run that was killed."""
    proc = subprocess.Popen([str(exe), "30"])
    pid = ProcId.of(proc.pid)
    assert pid is not None
    proc.kill()
    proc.wait(timeout=10)
    assert not pid.is_alive()
    return pid


def workdir(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "data").write_text("a server's files")
    return d


def edit_record(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    privatedir.write(path, json.dumps(data).encode())


def test_a_dead_runs_server_is_stopped_and_its_workdir_removed(
    tmp_path: Path, registry: Path, fake_server: Path, started: list
) -> None:
    server = run_server(fake_server, started)
    work = workdir(tmp_path, "work")
    record = spawned.register(server.pid, "fake", work, directory=registry, owner=dead_owner(fake_server))
    assert record is not None and record.exists()

    done = spawned.reap(registry, grace=5)

    assert server.wait(timeout=5) == -signal.SIGTERM, "the server of the dead run was not stopped"
    assert not work.exists(), f"{work} of the dead run is still there"
    assert list(registry.iterdir()) == [], "the record stays after its server was reaped"
    assert len(done) == 1 and done[0].startswith("stopped fake") and f"removed {work}" in done[0], done


def test_a_server_whose_run_is_alive_is_left(tmp_path: Path, registry: Path, fake_server: Path, started: list) -> None:
    server = run_server(fake_server, started)
    work = workdir(tmp_path, "work")
    me = ProcId.of(os.getpid())
    record = spawned.register(server.pid, "fake", work, directory=registry, owner=me)

    assert spawned.reap(registry, grace=5) == []

    time.sleep(0.2)
    assert server.poll() is None, "reap() stopped the server of a run that is still going"
    assert work.exists() and record is not None and record.exists()


def test_a_reused_pid_is_never_signalled(tmp_path: Path, registry: Path, fake_server: Path, started: list) -> None:
    """The record names pid P started at time T; P now belongs to a process started at another time."""
    other = run_server(fake_server, started)
    work = workdir(tmp_path, "work")
    record = spawned.register(other.pid, "fake", work, directory=registry, owner=dead_owner(fake_server))
    assert record is not None
    boot, pid, start = str(ProcId.of(other.pid)).split()
    edit_record(record, server=f"{boot} {pid} {int(start) - 1}")

    done = spawned.reap(registry, grace=5)

    time.sleep(0.2)
    assert other.poll() is None, f"reap() signalled pid {other.pid}, which is not the recorded process: {done}"
    assert len(done) == 1 and "had already exited" in done[0], done
    assert not record.exists()


def test_a_process_with_another_command_line_is_never_signalled(
    tmp_path: Path, registry: Path, fake_server: Path, started: list
) -> None:
    server = run_server(fake_server, started)
    work = workdir(tmp_path, "work")
    record = spawned.register(server.pid, "fake", work, directory=registry, owner=dead_owner(fake_server))
    assert record is not None
    edit_record(record, cmdline="postgres -D /somewhere/else")

    done = spawned.reap(registry, grace=5)

    time.sleep(0.2)
    assert server.poll() is None, f"reap() signalled a process whose command line is not the recorded one: {done}"
    assert work.exists(), "the work directory of a process that may still use it was removed"
    assert len(done) == 1 and "left pid" in done[0], done


def test_a_workdir_made_again_by_someone_else_is_left(
    tmp_path: Path, registry: Path, fake_server: Path, started: list
) -> None:
    server = run_server(fake_server, started)
    work = workdir(tmp_path, "work")
    record = spawned.register(server.pid, "fake", work, directory=registry, owner=dead_owner(fake_server))
    assert record is not None
    work.rename(tmp_path / "moved")
    work.mkdir()  # same name, another directory (another inode: the first one still exists)

    done = spawned.reap(registry, grace=5)

    assert server.wait(timeout=5) == -signal.SIGTERM
    assert work.exists(), "a directory the dead run did not make was removed"
    assert "is not the directory that run made" in done[0], done


def test_a_server_that_ignores_its_stop_signal_is_killed(
    tmp_path: Path, registry: Path, fake_server: Path, started: list
) -> None:
    server = run_server(fake_server, started)
    record = spawned.register(
        server.pid, "fake", None, directory=registry, owner=dead_owner(fake_server), stop_signal=signal.SIGCONT
    )
    assert record is not None

    done = spawned.reap(registry, grace=0.5)

    assert server.wait(timeout=5) == -signal.SIGKILL
    assert done[0].startswith("killed fake"), done


def test_a_killed_runs_server_dies_with_it_and_the_next_run_removes_its_workdir(
    tmp_path: Path, registry: Path, fake_server: Path, started: list
) -> None:
    """A run (a python process) starts a server with spawned.start and is SIGKILLed: the kernel stops the
    server (parent-death signal); the record names the dead run, and reap() removes the work directory."""
    work = workdir(tmp_path, "work")
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from snipcheck.harness import spawned
        s = spawned.start("fake", [{str(fake_server)!r}, "300"], log=Path({str(work / "log")!r}),
                          workdir=Path({str(work)!r}), registry=Path({str(registry)!r}))
        print(s.pid, flush=True)
        time.sleep(300)
    """)
    run = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SCRIPTS)},
    )
    started.append(run)  # type: ignore[arg-type]
    assert run.stdout is not None
    server = ProcId.of(int(run.stdout.readline()))
    assert server is not None and len(list(registry.glob("*.json"))) == 1

    run.kill()
    run.wait(timeout=10)
    deadline = time.monotonic() + 10
    while server.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.is_alive(), "the server outlived the run that started it (no parent-death signal)"

    done = spawned.reap(registry, grace=5)
    assert not work.exists() and list(registry.iterdir()) == [], done


def test_stop_removes_the_record(tmp_path: Path, registry: Path, fake_server: Path) -> None:
    s = spawned.start("fake", [str(fake_server), "300"], log=tmp_path / "log", registry=registry)
    assert s.record is not None and s.record.exists()
    assert s.stop(grace=5) == -signal.SIGTERM
    assert list(registry.iterdir()) == []


def test_free_port_is_below_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {spawned.free_port() for _ in range(20)}
    if low - spawned.LOWEST_PORT >= 2000:
        assert all(spawned.LOWEST_PORT <= p < low for p in ports), ports
    assert len(ports) > 1, "free_port() returns the same port each time"
