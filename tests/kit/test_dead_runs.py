"""The Docker objects of a killed run are removed by the next run, and nothing else is (review M1):
not those of a run whose owner still runs, not those of a run without a record, not those of a record
made on another engine."""

from __future__ import annotations

import os
import secrets
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from snipcheck.harness import deadruns, privatedir
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.procid import ProcId
from support import require

pytestmark = [pytest.mark.kit, pytest.mark.timeout(180)]


def _run_id() -> str:
    return "r" + secrets.token_hex(5)


def _dead_owner() -> ProcId:
    """The ProcId of a process that ran and has ended."""
    child = subprocess.Popen(["sleep", "30"])
    me = ProcId.of(child.pid)
    child.kill()
    child.wait()
    assert me is not None and not me.is_alive()
    return me


def _empty_image(ref: str) -> None:
    """An image of no files (docker import of an empty tar): enough to create, never start, a container."""
    with tempfile.TemporaryDirectory(prefix="snipcheck-deadrun-") as tmp:
        tar = Path(tmp) / "empty.tar"
        with tarfile.open(tar, mode="w"):
            pass
        dk.docker("import", str(tar), ref, timeout=60)


class RunObjects:
    """A labelled volume and network, a tagged image, and a compose-project container of one run id."""

    def __init__(self, run: str) -> None:
        self.run = run
        self.volume = f"{run}-gw1-vol"
        self.network = f"{run}-net"
        self.image = f"snipcheck/deadrun-probe:{run}-gw0"
        dk.docker("volume", "create", "--label", f"{dk.RUN_LABEL}={run}-gw1", self.volume, timeout=60)
        dk.docker("network", "create", "--label", f"{dk.RUN_LABEL}={run}", self.network, timeout=60)
        _empty_image(self.image)
        self.container = dk.docker(
            "create", "--label", f"{deadruns.COMPOSE_PROJECT}=snip-{run}-gw0-example", self.image, "/none", timeout=60
        ).stdout.strip()

    def present(self) -> dict[str, bool]:
        def ok(*args: str) -> bool:
            return dk.docker(*args, timeout=30, check=False).returncode == 0

        return {
            "volume": ok("volume", "inspect", self.volume),
            "network": ok("network", "inspect", self.network),
            "image": ok("image", "inspect", self.image),
            "container": ok("container", "inspect", self.container),
        }

    def remove(self) -> None:
        dk.remove_container(self.container)
        dk.docker("network", "rm", self.network, timeout=60, check=False)
        dk.docker("volume", "rm", self.volume, timeout=60, check=False)
        dk.docker("image", "rm", self.image, timeout=60, check=False)


@pytest.fixture
def records(tmp_path: Path) -> Path:
    return privatedir.ensure(tmp_path / "records")


@pytest.fixture
def engine() -> str:
    problem = dk.engine_problem()
    require(problem is None, problem or "")
    engine = deadruns.engine_id()
    assert engine, "docker info gave no engine id"
    return engine


@pytest.fixture
def made() -> Iterator[list[RunObjects]]:
    objects: list[RunObjects] = []
    yield objects
    for obj in objects:
        obj.remove()


def _record(records: Path, run: str, owner: ProcId, engine: str) -> Path:
    path = records / f"{run}-test.json"
    privatedir.write(path, f'{{"run": "{run}", "owner": "{owner}", "engine": "{engine}"}}'.encode())
    return path


def test_a_dead_runs_objects_go_and_nothing_else(records: Path, engine: str, made: list[RunObjects]) -> None:
    dead, live, unrecorded, elsewhere = (RunObjects(_run_id()) for _ in range(4))
    made += [dead, live, unrecorded, elsewhere]
    me = ProcId.of(os.getpid())
    assert me is not None
    dead_record = _record(records, dead.run, _dead_owner(), engine)
    live_record = _record(records, live.run, me, engine)
    other_record = _record(records, elsewhere.run, _dead_owner(), "ANOTHER:ENGINE")

    done = deadruns.sweep(records, engine=engine)

    assert any(dead.run in line and "removed 1 container(s)" in line for line in done), done
    assert dead.present() == dict.fromkeys(dead.present(), False), "the dead run's objects are still there"
    assert not dead_record.exists(), "the dead run's record stays after its objects were removed"
    for canary in (live, unrecorded, elsewhere):
        assert all(canary.present().values()), f"run {canary.run} lost objects: {canary.present()}"
    assert live_record.exists() and other_record.exists()


def test_a_worker_that_outlived_its_controller_keeps_the_run_alive(
    records: Path, engine: str, made: list[RunObjects]
) -> None:
    run = RunObjects(_run_id())
    made.append(run)
    record = _record(records, run.run, _dead_owner(), engine)
    worker = subprocess.Popen(["sleep", "60"], env={**os.environ, "SNIPCHECK_RUN_ID": run.run})
    try:
        assert deadruns.sweep(records, engine=engine) == []
        assert all(run.present().values()) and record.exists()
    finally:
        worker.kill()
        worker.wait()


def test_register_and_finish(records: Path, engine: str) -> None:
    path = deadruns.register(_run_id(), engine=engine, directory=records)
    assert path is not None
    rec = deadruns.RunRecord.load(path)
    assert rec.owner.pid == os.getpid() and rec.engine == engine
    deadruns.finish(path)
    assert not path.exists()


def test_a_record_naming_a_foreign_run_id_is_left_and_reported(records: Path, engine: str) -> None:
    path = records / "rbad.json"
    privatedir.write(path, b'{"run": "postgres", "owner": "x 1 2", "engine": "E"}')
    done = deadruns.sweep(records, engine=engine)
    assert path.exists() and any("not a record this suite wrote" in line for line in done), done
