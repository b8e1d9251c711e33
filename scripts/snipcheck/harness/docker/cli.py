"""The one wrapper around the Docker CLI (buildx, run, inspect, compose).

Everything the suite and the image kit do with Docker goes through here, so that
every object created carries the run label and can be cleaned up.

The Docker store's upstream names (golang:1.26-trixie, debian:trixie-slim...) belong to the user:
the suite never tags them. Where a run uses the image kit (snipcheck.harness.imagekit, local mode), its images
are stored as snipcheck.local/<upstream name>, and the places here that take an upstream name hand over
the kit's image instead: `build` (named build contexts for FROM / COPY --from, BUILDKIT_SYNTAX for
`# syntax=`), `save` and `image_exists` (the node imports what the run uses).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from ...run.ids import RUN_ID
from .. import proc

RUN_LABEL = "io.snipcheck.run"


class DockerError(proc.CommandError):
    """A docker command failed; the message carries the command and its output."""


class Result(proc.Result):
    def check(self) -> Result:
        if self.returncode != 0:
            raise DockerError(self.describe())
        return self


def cli_env(env: dict[str, str] | None, isolated_env: bool) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not isolated_env or k in ("PATH", "HOME", "TMPDIR") or k.startswith("DOCKER_")
    }
    return {**inherited, "DOCKER_BUILDKIT": "1", **(env or {})}


def docker(
    *args: str,
    timeout: float = 600,
    input: str | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    cwd: Path | None = None,
    isolated_env: bool = False,
) -> Result:
    """Run `docker ARGS...` and capture its output.

    isolated_env: pass only what the CLI needs (PATH, HOME, DOCKER_*), so that variables of the
    caller's shell cannot stand in for ones a compose file expects from its env file.
    """
    res = proc.run(
        ["docker", *args], timeout=timeout, input=input, env=cli_env(env, isolated_env), cwd=cwd, error=DockerError
    )
    res = Result(res.args, res.returncode, res.stdout, res.stderr, res.seconds)
    return res.check() if check else res


def docker_to_file(dest: Path, *args: str, timeout: float = 600) -> Path:
    """Run `docker ARGS...` streaming its stdout into `dest` (tar streams: nothing held in memory)."""
    with dest.open("wb") as out:
        res = proc.run(["docker", *args], timeout=timeout, stdout=out, env=cli_env(None, False), error=DockerError)
    Result(res.args, res.returncode, res.stdout, res.stderr, res.seconds).check()
    return dest


def stored(ref: str) -> str:
    """The name under which this store holds the image the run uses for `ref`: `ref` itself, or the image
    kit's snipcheck.local/<ref> when the kit stands in for it in this run."""
    from ..imagekit import stands_in  # the kit uses this module; imported when first needed

    return stands_in(ref) or ref


def save(ref: str, dest: Path, timeout: float = 600) -> Path:
    """`docker save` of the image the run uses for `ref` (every layer and its config) into a tar file."""
    return docker_to_file(dest, "save", stored(ref), timeout=timeout)


def engine_problem() -> str | None:
    """None when a Docker engine answers; otherwise what is missing and how to get it."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed (run: sudo bash scripts/install-docker-engine.sh)"
    res = docker("info", "--format", "{{.ServerVersion}}", timeout=20, check=False)
    if res.returncode != 0:
        return "no Docker engine answers `docker info` (run: sudo bash scripts/install-docker-engine.sh)\n" + proc.tail(
            res.stderr, 5
        )
    if docker("buildx", "version", timeout=20, check=False).returncode != 0:
        return "docker buildx plugin missing (run: sudo bash scripts/install-docker-engine.sh)"
    return None


def image_exists(ref: str) -> bool:
    """Does the store hold the image the run uses for `ref` (see stored)?"""
    return docker("image", "inspect", stored(ref), timeout=30, check=False).returncode == 0


def inspect(ref: str, kind: str = "image") -> dict:
    out = docker(kind, "inspect", ref, timeout=30).stdout
    return json.loads(out)[0]


def image_size(ref: str) -> int:
    return int(inspect(ref)["Size"])


def image_label(ref: str, label: str) -> str | None:
    res = docker(
        "image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', ref, timeout=30, check=False
    )
    value = res.stdout.strip()
    return value if res.returncode == 0 and value and value != "<no value>" else None


def create(ref: str, *args: str, labelled: bool = True) -> str:
    """A created, never started container (to copy or export files); returns its id."""
    label = ["--label", f"{RUN_LABEL}={RUN_ID}"] if labelled else []
    return docker("create", *label, ref, *(args or ("/none",)), timeout=60).stdout.strip()


def import_tar(tar: Path, tag: str, changes: Sequence[str] = (), platform: str | None = None) -> None:
    """`docker import` a root filesystem tar as image `tag`, with Dockerfile `changes` (ENV, LABEL...)."""
    args = ["import"]
    if platform:
        args += ["--platform", platform]
    for change in changes:
        args += ["--change", change]
    docker(*args, str(tar), tag, timeout=600)


def describe_container(container: str, log_lines: int = 40) -> str:
    """Name, state and the last log lines of a container: what a timeout message needs."""
    res = docker(
        "inspect",
        "--format",
        "{{.Name}} {{.State.Status}} exit={{.State.ExitCode}} "
        "restarts={{.RestartCount}} health={{if .State.Health}}{{.State.Health.Status}}{{end}}",
        container,
        timeout=30,
        check=False,
    )
    state = res.stdout.strip() or f"(inspect failed: {res.stderr.strip()[:200]})"
    return (
        f"container {container[:12]} {state}\n--- last {log_lines} log lines ---\n"
        f"{proc.tail(logs(container), log_lines)}"
    )


def run_detached(
    image: str,
    *,
    name: str | None = None,
    ports: Sequence[str] = (),
    args: Sequence[str] = (),
    extra: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> str:
    """Start a labelled container; ports are published on 127.0.0.1 only. Returns its id."""
    cmd = ["run", "-d", "--label", f"{RUN_LABEL}={RUN_ID}"]
    if name:
        cmd += ["--name", name]
    for port in ports:
        cmd += ["-p", f"127.0.0.1::{port}"]
    for key, value in (env or {}).items():
        cmd += ["-e", f"{key}={value}"]
    cmd += [*extra, image, *args]
    return docker(*cmd, timeout=60).stdout.strip()


def run_once(image: str, *args: str, extra: Sequence[str] = (), timeout: float = 120, check: bool = True) -> Result:
    """Run a labelled container to completion; its output comes from the container's log.

    Not `docker run --rm` attached: under load the attached stream of a container that exits at once can
    come back empty with exit 0. Created, started, waited for, logs read, then removed.
    """
    cmd = ["docker", "run", *extra, image, *args]
    created = docker("create", "--label", f"{RUN_LABEL}={RUN_ID}", *extra, image, *args, timeout=60, check=False)
    if created.returncode != 0:
        return created.check() if check else created
    cid = created.stdout.strip()
    try:
        started = docker("start", cid, timeout=60, check=False)
        if started.returncode != 0:  # the process could not start (missing binary or interpreter)
            # the daemon keeps why in State.Error (e.g. "failed to create task … exec /server: no such file or
            # directory"); once, in a warm full run, `docker start` came back with exit 1 and nothing on stdout
            # or stderr, so the reason is taken from there too
            state = docker("container", "inspect", "--format", "{{.State.Error}}", cid, timeout=30, check=False)
            reason = state.stdout.strip() if state.returncode == 0 else ""
            stderr = started.stderr if reason in started.stderr else f"{started.stderr}{reason}\n"
            res = Result(cmd, started.returncode, started.stdout, stderr, started.seconds)
        else:
            waited = docker("wait", cid, timeout=timeout)
            out = docker("logs", cid, timeout=60)
            res = Result(cmd, int(waited.stdout.strip()), out.stdout, out.stderr, started.seconds + waited.seconds)
    finally:
        remove_container(cid)
    return res.check() if check else res


def host_port(container: str, port: int | str) -> int:
    """The 127.0.0.1 port Docker published for a container port."""
    out = docker("port", container, str(port), timeout=30).stdout
    for line in out.splitlines():
        host, _, p = line.strip().rpartition(":")
        if host in ("127.0.0.1", "0.0.0.0", "[::]"):
            return int(p)
    raise DockerError(f"container {container} publishes no port for {port}: {out!r}")


def logs(container: str) -> str:
    res = docker("logs", container, timeout=30, check=False)
    return res.stdout + res.stderr


def remove_container(container: str) -> None:
    docker("rm", "-f", "-v", container, timeout=60, check=False)


def remove_image(ref: str) -> None:
    docker("image", "rm", "-f", ref, timeout=60, check=False)


def labelled(kind: str, run_id: str = RUN_ID) -> list[str]:
    """Ids of containers / images / networks / volumes carrying this run's label."""
    flt = f"label={RUN_LABEL}={run_id}"
    if kind == "container":
        out = docker("ps", "-aq", "--filter", flt, timeout=30).stdout
    elif kind == "image":
        out = docker("images", "-q", "--filter", flt, timeout=30).stdout
    else:
        out = docker(kind, "ls", "-q", "--filter", flt, timeout=30).stdout
    return sorted(set(out.split()))


def cleanup_run(run_id: str = RUN_ID) -> None:
    """Remove everything this run labelled."""
    for cid in labelled("container", run_id):
        remove_container(cid)
    for kind in ("network", "volume"):
        for obj in labelled(kind, run_id):
            docker(kind, "rm", obj, timeout=60, check=False)
    for iid in labelled("image", run_id):
        remove_image(iid)


CACHE_LABEL = "io.snipcheck.cache"


def cache_volume(name: str, purpose: str) -> str:
    """A volume that outlives the run on purpose (a cache, like BuildKit's): created once, labelled
    CACHE_LABEL=purpose; `docker volume rm $(docker volume ls -q --filter label=io.snipcheck.cache)`
    drops them all."""
    if docker("volume", "inspect", name, timeout=30, check=False).returncode != 0:
        docker("volume", "create", "--label", f"{CACHE_LABEL}={purpose}", name, timeout=60)
    return name


def compose(
    project: str,
    files: Sequence[Path],
    *args: str,
    env_file: Path | None = None,
    profiles: Sequence[str] = (),
    timeout: float = 600,
    check: bool = True,
    cwd: Path | None = None,
) -> Result:
    """`docker compose -p PROJECT -f ... ARGS` (project names must be unique per run).

    Runs with an isolated environment: a compose file gets its variables from its env file only.
    """
    cmd = ["compose", "-p", project]
    for f in files:
        cmd += ["-f", str(f)]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    for profile in profiles:
        cmd += ["--profile", profile]
    return docker(*cmd, *args, timeout=timeout, check=check, cwd=cwd, isolated_env=True)
