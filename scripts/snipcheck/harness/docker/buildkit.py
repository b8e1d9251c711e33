"""Builds with BuildKit (docker buildx): the image kit's images given to a build as named contexts, the suite's
manifest kept out of every build context, and a build stopped at a chosen step with its progress read from
BuildKit's output.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ...run.ids import RUN_ID
from .cli import RUN_LABEL, DockerError, Result, cli_env, docker


def context_name(ref: str) -> str:
    """The name BuildKit looks a named context up by for `FROM ref`: the familiar form without `:latest`
    (docker.io/library/golang:1.26 -> golang:1.26, gcr.io/distroless/static-debian13:latest -> ...-debian12)."""
    ref = ref.removeprefix("docker.io/")
    if ref.startswith("library/") and ref.count("/") == 1:
        ref = ref.removeprefix("library/")
    return ref.removesuffix(":latest")


def kit_inputs(
    dockerfile: Path, build_args: dict[str, str] | None = None, given: dict[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(named contexts, build args) that give a build of `dockerfile` the image kit's images for the upstream
    names it uses: `FROM golang:1.26-trixie` reads snipcheck.local/golang:1.26-trixie, `# syntax=
    docker/dockerfile:1` runs the frontend snipcheck.local/docker/dockerfile:1 (BUILDKIT_SYNTAX). Empty when
    the run does not use the kit (registry mode) or the Dockerfile names none of its images. Names in `given`
    (contexts the caller chose, e.g. a platform variant) are left alone."""
    from ...model import dockerfile as dfile
    from ..imagekit import stands_in

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
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env(None, False)
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
