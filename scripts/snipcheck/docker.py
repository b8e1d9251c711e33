"""The one wrapper around the Docker CLI (buildx, run, inspect, compose).

Everything the suite and the image kit do with Docker goes through here, so that
every object created carries the run label and can be cleaned up.

The Docker store's upstream names (golang:1.26-bookworm, debian:bookworm-slim...) belong to the user:
the suite never tags them. Where a run uses the image kit (snipcheck.imagekit, local mode), its images
are stored as snipcheck.local/<upstream name>, and the places here that take an upstream name hand over
the kit's image instead: `build` (named build contexts for FROM / COPY --from, BUILDKIT_SYNTAX for
`# syntax=`), `save` and `image_exists` (the node imports what the run uses).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from . import proc
from .runid import RUN_ID

RUN_LABEL = "io.snipcheck.run"


class DockerError(proc.CommandError):
    """A docker command failed; the message carries the command and its output."""


class Result(proc.Result):
    def check(self) -> Result:
        if self.returncode != 0:
            raise DockerError(self.describe())
        return self


def _env(env: dict[str, str] | None, isolated_env: bool) -> dict[str, str]:
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
        ["docker", *args], timeout=timeout, input=input, env=_env(env, isolated_env), cwd=cwd, error=DockerError
    )
    res = Result(res.args, res.returncode, res.stdout, res.stderr, res.seconds)
    return res.check() if check else res


def docker_to_file(dest: Path, *args: str, timeout: float = 600) -> Path:
    """Run `docker ARGS...` streaming its stdout into `dest` (tar streams: nothing held in memory)."""
    with dest.open("wb") as out:
        res = proc.run(["docker", *args], timeout=timeout, stdout=out, env=_env(None, False), error=DockerError)
    Result(res.args, res.returncode, res.stdout, res.stderr, res.seconds).check()
    return dest


def stored(ref: str) -> str:
    """The name under which this store holds the image the run uses for `ref`: `ref` itself, or the image
    kit's snipcheck.local/<ref> when the kit stands in for it in this run."""
    from .imagekit import stands_in  # the kit uses this module; imported when first needed

    return stands_in(ref) or ref


def context_name(ref: str) -> str:
    """The name BuildKit looks a named context up by for `FROM ref`: the familiar form without `:latest`
    (docker.io/library/golang:1.26 -> golang:1.26, gcr.io/distroless/static-debian12:latest -> ...-debian12)."""
    ref = ref.removeprefix("docker.io/")
    if ref.startswith("library/") and ref.count("/") == 1:
        ref = ref.removeprefix("library/")
    return ref.removesuffix(":latest")


def kit_inputs(
    dockerfile: Path, build_args: dict[str, str] | None = None, given: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(named contexts, build args) that give a build of `dockerfile` the image kit's images for the upstream
    names it uses: `FROM golang:1.26-bookworm` reads snipcheck.local/golang:1.26-bookworm, `# syntax=
    docker/dockerfile:1` runs the frontend snipcheck.local/docker/dockerfile:1 (BUILDKIT_SYNTAX). Empty when
    the run does not use the kit (registry mode) or the Dockerfile names none of its images. Names in `given`
    (contexts the caller chose, e.g. a platform variant) are left alone."""
    from . import dockerfile as dfile
    from .imagekit import stands_in

    if not dockerfile.is_file():
        return {}, {}
    parsed = dfile.parse(dockerfile, build_args or {})
    taken = {context_name(name) for name in given or {}}
    contexts: dict[str, str] = {}
    for ref in parsed.bases:
        image = stands_in(ref)
        if image and context_name(ref) not in taken:
            contexts[context_name(ref)] = f"docker-image://{image}"
    args: dict[str, str] = {}
    frontend = stands_in(parsed.syntax) if parsed.syntax else None
    if frontend and "BUILDKIT_SYNTAX" not in (build_args or {}):
        args["BUILDKIT_SYNTAX"] = frontend
    return contexts, args


def save(ref: str, dest: Path, timeout: float = 600) -> Path:
    """`docker save` of the image the run uses for `ref` (every layer and its config) into a tar file."""
    return docker_to_file(dest, "save", stored(ref), timeout=timeout)


@contextmanager
def stream(*args: str, timeout: float = 600) -> Iterator[IO[bytes]]:
    """Run `docker ARGS...` and hand its stdout over as a stream, read once and never written to disk
    (`docker save` / `docker export` of a 1 GB image: the disk write and its writeback were most of the
    cost). A consumer that stops early ends the command; a command that fails raises DockerError."""
    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        cmd = subprocess.Popen(["docker", *args], stdout=subprocess.PIPE, stderr=err, env=_env(None, False))
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
# after `docker rm` (713 such mounts pinning 40 GB after a day of runs, found 2026-12-02);
# tests/images/test_image_reading.py fails if reading leaves a mount. Names in the archive start with
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


def build(
    context: Path,
    tag: str,
    *,
    dockerfile: Path | None = None,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
    platform: str | None = None,
    secrets: Sequence[str] = (),
    build_contexts: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    load: bool = True,
    output: str | None = None,
    no_cache: bool = False,
    timeout: float = 900,
    run_label: bool = True,
) -> Result:
    """`docker buildx build` with the default docker driver; labels the image with the run id.

    `run_label=False` is for images meant to outlive the run (the base-image kit). The image kit's images
    come in as named contexts (kit_inputs); `build_contexts` given here take precedence.
    A context holding the suite's `manifest.yaml` is built without it (see `_without_manifest`).
    """
    kit_contexts, kit_args = kit_inputs(dockerfile or context / "Dockerfile", build_args, build_contexts)
    with tempfile.TemporaryDirectory(prefix="snipcheck-dockerfile-") as stage:
        dockerfile = _without_manifest(context, dockerfile, Path(stage)) or dockerfile
        args = _buildx_args("plain", tag, dockerfile, {**(build_args or {}), **kit_args}, run_label)
        for key, value in (labels or {}).items():
            args += ["--label", f"{key}={value}"]
        for name, src in {**kit_contexts, **(build_contexts or {})}.items():
            args += ["--build-context", f"{name}={src}"]
        for secret in secrets:
            args += ["--secret", secret]
        if target:
            args += ["--target", target]
        if platform:
            args += ["--platform", platform]
        if no_cache:
            args.append("--no-cache")
        if output:
            args += ["--output", output]
        elif load:
            args.append("--load")
        args.append(str(context))
        return docker(*args, timeout=timeout)


def _buildx_args(
    progress: str, tag: str, dockerfile: Path | None, build_args: dict[str, str] | None, run_label: bool
) -> list[str]:
    args = ["buildx", "build", f"--progress={progress}", "-t", tag]
    # CI in registry mode: a docker-container builder that exports BuildKit's cache between runs
    # (SNIPCHECK_BUILDER, SNIPCHECK_BUILD_CACHE="type=gha,scope=..."); locally the default docker driver.
    if os.environ.get("SNIPCHECK_BUILDER"):
        args[2:2] = ["--builder", os.environ["SNIPCHECK_BUILDER"]]
    if os.environ.get("SNIPCHECK_BUILD_CACHE") and run_label:
        cache = os.environ["SNIPCHECK_BUILD_CACHE"]
        args += ["--cache-from", cache, "--cache-to", f"{cache},mode=max"]
    if run_label:
        args += ["--label", f"{RUN_LABEL}={RUN_ID}"]
    if dockerfile is not None:
        args += ["-f", str(dockerfile)]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    return args


def build_steps_until(
    context: Path,
    step: str,
    *,
    dockerfile: Path | None = None,
    build_args: dict[str, str] | None = None,
    timeout: float = 900,
) -> dict[str, bool]:
    """Build `context` and cancel the build as soon as the first step whose name holds `step` starts.

    For proofs about BuildKit's cache: its solver says whether a step is served from the cache when the
    step starts (`cached` comes with `started` in the raw JSON progress), so a step that has to run again
    (a compile) need not run to the end to show it. Returns {step name: served from the cache} of every
    step started until then. Nothing is exported (`type=cacheonly`); a build that fails before the step
    raises DockerError with its output.
    """
    kit_contexts, kit_args = kit_inputs(dockerfile or context / "Dockerfile", build_args)
    with tempfile.TemporaryDirectory(prefix="snipcheck-dockerfile-") as stage:
        dockerfile = _without_manifest(context, dockerfile, Path(stage)) or dockerfile
        tag = f"snipcheck/steps:{RUN_ID}"
        args = ["docker", *_buildx_args("rawjson", tag, dockerfile, {**(build_args or {}), **kit_args}, False)]
        for name, src in kit_contexts.items():
            args += ["--build-context", f"{name}={src}"]
        args += ["--output", "type=cacheonly", str(context)]
        started = time.monotonic()
        build = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(None, False)
        )
        timer = threading.Timer(timeout, build.kill)
        timer.start()
        steps: dict[str, bool] = {}
        said: list[str] = []
        try:
            assert build.stderr is not None
            before = _shell_commands()
            for event in _json_objects(build.stderr, said):
                for vertex in event.get("vertexes") or []:
                    if vertex.get("started") and not vertex.get("name", "").startswith("[internal]"):
                        steps[vertex["name"]] = bool(vertex.get("cached"))
                target = next((name for name in steps if step in name), None)
                if target is None:
                    continue
                # BuildKit loses a cancel that comes between the step's start and its process's start (the
                # process then runs to its end), so cancel once the step's shell is seen running, if it
                # can be seen (an engine on this host); otherwise the build runs to its end
                command = target.split("] RUN ", 1)[-1] if "] RUN " in target else None
                if not steps[target] and command and _wait_for_shell(command, before, build):
                    build.send_signal(signal.SIGINT)  # buildx cancels the solve, BuildKit kills the step
                break
            # read to the end: a buildx that cannot write its progress never gets to cancel the step
            said.extend(build.stderr)
            build.wait(timeout=60)
        finally:
            timer.cancel()
            if build.poll() is None:
                build.kill()
                build.wait()
        if not any(step in name for name in steps) and build.returncode != 0:
            raise DockerError(Result(args, build.returncode, "", "".join(said), time.monotonic() - started).describe())
        return steps


def _shell_commands() -> set[int]:
    """Pids of the `/bin/sh -c ...` processes on this host."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"/bin/sh\0-c\0"):
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def _wait_for_shell(command: str, before: set[int], build: subprocess.Popen[str], timeout: float = 30) -> bool:
    """Wait until a new `/bin/sh -c COMMAND` runs on this host (a RUN step's process); False if none does
    within `timeout` or the build ends first."""
    want = b"/bin/sh\0-c\0" + command.encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and build.poll() is None:
        for pid in _shell_commands() - before:
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0") == want:
                    return True
            except OSError:
                continue
        time.sleep(0.05)
    return False


def _json_objects(stream: IO[str], said: list[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of `--progress=rawjson` (indented, one after another); every line kept in `said`."""
    buffer: list[str] = []
    for line in stream:
        said.append(line)
        if buffer or line.startswith("{"):
            buffer.append(line)
        if buffer and line.rstrip("\n") == "}":
            yield json.loads("".join(buffer))
            buffer = []


def _without_manifest(context: Path, dockerfile: Path | None, stage: Path) -> Path | None:
    """The suite's manifest (snippets/<dir>/manifest.yaml) is not part of the reader's project, and as part
    of a build context it would make every edit of it invalidate BuildKit's cache of every image built
    from that directory (40 images share snippets/myapp). For such a context: a copy of the Dockerfile in
    `stage` with a Dockerfile-specific ignore file (`<name>.dockerignore`, which BuildKit reads instead of
    the context's .dockerignore) = the snippet's own ignore rules + `manifest.yaml`. Returns that copy, or
    None when the context has no manifest."""
    if not (context / "manifest.yaml").is_file():
        return None
    src = dockerfile or context / "Dockerfile"
    own, shared = Path(f"{src}.dockerignore"), context / ".dockerignore"
    rules = own.read_text() if own.is_file() else shared.read_text() if shared.is_file() else ""
    copy = stage / src.name
    shutil.copyfile(src, copy)
    Path(f"{copy}.dockerignore").write_text(
        f"{rules.rstrip()}\n# added by the test suite: its manifest is not part of the project\nmanifest.yaml\n"
    )
    return copy


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


def export_fs(ref: str, dest: Path) -> Path:
    """Write an image's filesystem as a tar file (names start with "/"; see filesystem_stream)."""
    cid = create(ref)
    try:
        with filesystem_stream(cid) as out, dest.open("wb") as fh:
            shutil.copyfileobj(out, fh, 1 << 20)
    finally:
        remove_container(cid)
    return dest


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
