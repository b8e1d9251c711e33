"""Docker objects of a killed run, found and removed by the next run (review M1).

A run names its Docker objects after its run id: the label io.snipcheck.run=<id> (containers, images,
networks and volumes it creates), tags `...:<id>` (the images it builds) and compose projects
`snip-<id>-...` (their containers, networks and volumes carry compose's project label). The run removes
them as it goes; a run that is killed cannot.

- `register()` (the pytest controller at session start) writes the run's record into a private
  directory: its run id, the ProcId (boot id, pid, start time) of the process that owns it and the id of
  the Docker engine it talks to. `finish(record)` removes the record when the session ends.
- `sweep()` (the same place, before registering) goes through the records whose owner no longer runs (an
  earlier boot, or a pid that has exited or been reused) on this engine, and no process with the run's
  SNIPCHECK_RUN_ID remains (a worker that outlived its controller), removes every object of that
  run id — its own id and its workers' (`<id>-gw0` ...) — and then the record. A run whose owner runs is
  never touched, nor are objects of a run without a record (they are not proven to be a dead run's).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..run import ids as runid
from . import privatedir
from .docker import cli as dk
from .procid import ProcId

RECORDS_ENV = "SNIPCHECK_DOCKER_RUNS_DIR"  # another directory (the tests of this module use their own)
COMPOSE_PROJECT = "com.docker.compose.project"
_RUN_ID = re.compile(r"^r[0-9a-f]{10}$")  # runid.RUN_BASE, as it is generated


def records_dir() -> Path:
    if override := os.environ.get(RECORDS_ENV):
        return privatedir.ensure(Path(override))
    return privatedir.state_subdir("docker-runs")


def engine_id() -> str | None:
    """The engine's id (`docker info`), or None when no engine answers."""
    res = dk.docker("info", "--format", "{{.ID}}", timeout=20, check=False)
    value = res.stdout.strip()
    return value if res.returncode == 0 and value else None


@dataclass(frozen=True)
class RunRecord:
    path: Path
    run: str
    owner: ProcId
    engine: str

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        data = json.loads(privatedir.read(path))
        run = str(data["run"])
        if not _RUN_ID.match(run):
            raise ValueError(f"{path}: run id {run!r} is not of the form the suite generates (r + 10 hex digits)")
        return cls(path, run, ProcId.parse(str(data["owner"])), str(data["engine"]))


def register(run: str = runid.RUN_BASE, engine: str | None = None, directory: Path | None = None) -> Path | None:
    """Record that this process owns run `run` on the engine (None when no engine answers: nothing to
    record, the run makes no Docker objects)."""
    engine = engine or engine_id()
    me = ProcId.of(os.getpid())
    if engine is None or me is None or not _RUN_ID.match(run):
        return None
    path = (directory or records_dir()) / f"{run}-{secrets.token_hex(4)}.json"
    privatedir.write(path, json.dumps({"run": run, "owner": str(me), "engine": engine}).encode())
    return path


def finish(record: Path | None) -> None:
    if record is not None:
        record.unlink(missing_ok=True)


def processes_of(run: str) -> list[int]:
    """Pids of the processes that belong to run `run` (SNIPCHECK_RUN_ID=<run> in their environment: the
    controller exports it, its workers and their children inherit it) — those we can read."""
    needle = f"\0SNIPCHECK_RUN_ID={run}\0".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours to read
        if needle in b"\0" + env:
            pids.append(int(entry.name))
    return pids


def _of_run(value: str, run: str) -> bool:
    return value == run or value.startswith(run + "-")


def objects_of(run: str) -> dict[str, list[str]]:
    """The ids (images: references) of what run `run` and its workers left, by kind."""
    found: dict[str, list[str]] = {"container": [], "network": [], "volume": [], "image": []}
    project_prefix = f"snip-{run}-"
    listings = {"container": ("ps", "-a"), "network": ("network", "ls"), "volume": ("volume", "ls")}
    for kind, command in listings.items():
        key = "Name" if kind == "volume" else "ID"
        labels = f'{{{{.{key}}}}} {{{{.Label "{dk.RUN_LABEL}"}}}} {{{{.Label "{COMPOSE_PROJECT}"}}}}'
        for line in dk.docker(*command, "--format", labels, timeout=30).stdout.splitlines():
            oid, _, rest = line.partition(" ")
            label, _, project = rest.partition(" ")
            if _of_run(label, run) or project.startswith(project_prefix):
                found[kind].append(oid)
    for line in dk.docker("images", "--format", "{{.Repository}}:{{.Tag}}", timeout=30).stdout.splitlines():
        repo, _, tag = line.rpartition(":")
        if repo.startswith("snipcheck") and _of_run(tag.lower(), run):
            found["image"].append(line)
    images = dk.docker("images", "-q", "--filter", f"label={dk.RUN_LABEL}", timeout=30).stdout.split()
    for iid in sorted(set(images)):
        res = dk.docker(
            "image",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{dk.RUN_LABEL}"}}}}',
            iid,
            timeout=30,
            check=False,
        )
        if res.returncode == 0 and _of_run(res.stdout.strip(), run):
            found["image"].append(iid)
    return found


def remove_objects(found: dict[str, list[str]]) -> None:
    for cid in found["container"]:
        dk.remove_container(cid)
    for kind in ("network", "volume"):
        for oid in found[kind]:
            dk.docker(kind, "rm", oid, timeout=60, check=False)
    for ref in found["image"]:
        dk.docker("image", "rm", ref, timeout=60, check=False)  # never -f: an image in use by others stays


def sweep(directory: Path | None = None, engine: str | None = None) -> list[str]:
    """Remove what the dead runs recorded in `directory` left on this engine; what was done, one line each."""
    engine = engine or engine_id()
    if engine is None:
        return []
    d = directory or records_dir()
    done: list[str] = []
    for path in sorted(d.glob("r*.json")):
        try:
            rec = RunRecord.load(path)
        except (OSError, ValueError, KeyError) as exc:
            done.append(f"{path}: not a record this suite wrote, left as it is ({exc}); remove it if it is stale")
            continue
        if rec.engine != engine or rec.owner.is_alive() or processes_of(rec.run):
            continue  # another engine's, or the run (its owner, or a worker that outlived it) still runs
        found = objects_of(rec.run)
        remove_objects(found)
        counts = ", ".join(f"{len(v)} {k}(s)" for k, v in found.items() if v) or "nothing left"
        done.append(f"run {rec.run} (owner {rec.owner.pid}, no longer running): removed {counts}")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return done
