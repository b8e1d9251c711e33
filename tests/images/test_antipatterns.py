"""The chapter's "❌" Dockerfiles fail exactly the way the text says (issue 7)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from planting import planted_context, planted_files

from snipcheck.harness import waiting
from snipcheck.harness.docker import cli as dk
from snipcheck.harness.docker import imagefs as docker_imagefs
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet
from support import HARDENED, app_env, http_get, process_uid, slug, wait_http_ok

pytestmark = [pytest.mark.images]


def scenarios(snippet: Snippet) -> list[str]:
    value = snippet.settings.get("scenario") or []
    return [value] if isinstance(value, str) else list(value)


CASES = [(s, sc) for s in manifest.by_check("image-antipattern") for sc in scenarios(s)]
UNNAMED = [s for s in manifest.by_check("image-antipattern") if not scenarios(s)]


def _compare_snippet(snippet: Snippet) -> Snippet:
    other = snippet.settings.get("compare_with")
    if not other:
        pytest.fail(f"{snippet.where()}: this scenario needs `compare_with: <snippet path>`", pytrace=False)
    try:
        return manifest.load()[other]
    except KeyError:
        pytest.fail(f"{snippet.where()}: compare_with {other!r} is not a declared snippet", pytrace=False)


def image_files(tag: str) -> set[str]:
    """Paths of every file in the image's filesystem."""
    return {m.name.lstrip("./") for m in docker_imagefs.fs_members(tag)}


def shell_form_sigterm(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    run = snippet.settings_for("run")
    grace = int(run.get("stop_timeout", 5))
    built = builder.build(snippet)
    cid = dk.run_detached(built.tag, ports=[str(run["port"])], env=app_env(snippet))
    cleanup.append(cid)
    wait_http_ok(cid, run["port"], run["health"], 30)
    start = time.monotonic()
    dk.docker("stop", "-t", str(grace), cid, timeout=grace + 30)
    elapsed = time.monotonic() - start
    code = dk.inspect(cid, "container")["State"]["ExitCode"]
    measure.update(seconds_to_stop=round(elapsed, 2), exit_code=code, stop_timeout=grace)
    assert code == 137 and elapsed >= grace - 0.5, (
        f"the text says SIGTERM never reaches the app, so docker stop waits {grace}s and kills it (137); "
        f"observed exit {code} after {elapsed:.1f}s"
    )


def cgo_in_scratch(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    built = builder.build(snippet)
    res = dk.run_once(built.tag, extra=["--name", f"{dk.RUN_ID}-cgo"], check=False, timeout=60)
    out = res.stdout + res.stderr
    measure.update(exit_code=res.returncode, error=out.strip()[-300:])
    assert res.returncode != 0 and "no such file or directory" in out, (
        f"expected the dynamically linked binary to fail with 'no such file or directory'; "
        f"exit {res.returncode}, output: {out[-500:]}"
    )


def secret_in_history(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    """ARG/ENV token: visible in history/config/layers. BuildKit secret mount: no trace anywhere."""
    canary = "snipcheck-canary-7f3d9c"  # fixed: an unchanged scenario is served from the cache
    if snippet.expect == "fails":
        arg = snippet.settings.get("secret_arg", "GITHUB_TOKEN")
        # the manifest's build argument, so that image-build and this scenario are one build
        canary = ((snippet.settings.get("build") or {}).get("args") or {}).get(arg, "")
        if not canary:
            pytest.fail(f"{snippet.where()}: give the token to look for as `build: {{args: {{{arg}: ...}}}}`")
        built = builder.build(snippet)
        history = dk.docker("history", "--no-trunc", built.tag, timeout=60).stdout
        config = dk.docker("image", "inspect", built.tag, timeout=60).stdout
        measure.update(
            in_history=canary in history,
            in_image_config=canary in config,
            in_layers=docker_imagefs.image_contains(built.tag, canary.encode()),
        )
        assert canary in history or canary in config, (
            f"the text says a token passed by ARG/ENV stays in the image; {arg} not found in history/inspect"
        )
        return
    secret = snippet.settings.get("secret") or {}
    if "id" not in secret:
        pytest.fail(f"{snippet.where()}: the secret-mount variant needs `secret: {{id: ...}}`", pytrace=False)
    token_file = tmp / "token"
    token_file.write_text(canary)
    spec = (f"id={secret['id']},src={token_file}",)
    stages = [None] + ([snippet.settings.get("secret_stage", "builder")] if "builder" in dfile_stages(snippet) else [])
    for stage in stages:
        built = builder.build(snippet, secrets=spec, variant=f"secret-{stage or 'final'}", target=stage)
        history = dk.docker("history", "--no-trunc", built.tag, timeout=60).stdout
        config = dk.docker("image", "inspect", built.tag, timeout=60).stdout
        leaks = {
            "history": canary in history,
            "config": canary in config,
            "layers": docker_imagefs.image_contains(built.tag, canary.encode()),
        }
        measure[f"traces_{stage or 'final'}"] = leaks
        assert not any(leaks.values()), f"the secret left a trace in the {stage or 'final'} image: {leaks}"


def dfile_stages(snippet: Snippet) -> list[str]:
    from snipcheck.model import dockerfile as dfile

    return dfile.parse(snippet.file).stages


def _in_image(rel: str, files: set[str]) -> bool:
    """Is the context file `rel` somewhere in the image (COPY puts it under the WORKDIR)?"""
    return any(f == rel or f.endswith("/" + rel) for f in files)


def no_dockerignore(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    """Without a .dockerignore, planted secrets reach the image; with the snippet's one they do not.

    On a Dockerfile snippet: build it from a copy of its context without any .dockerignore.
    On a .dockerignore snippet: build `dockerfile:` with this file as the context's .dockerignore.
    """
    settings = snippet.settings
    planted = planted_files(snippet)
    if snippet.kind == "dockerignore":
        dockerfile = manifest.load()[settings["dockerfile"]]
        ctx = planted_context(dockerfile, tmp / "context", planted)
        shutil.copy(snippet.file, ctx / ".dockerignore")
        files = image_files(builder.build(dockerfile, context=ctx, variant=f"ignore-{slug(snippet.path)}").tag)
        excluded = list(settings.get("excluded") or planted)
        got_in = [f for f in excluded if _in_image(f, files)]
        missing_kept = [f for f in settings.get("kept") or [] if not _in_image(f, files)]
        measure.update(excluded=excluded, leaked=got_in)
        assert not got_in, f"with snippets/{snippet.path} as .dockerignore these still reached the image: {got_in}"
        assert not missing_kept, f"these should still be copied but are not in the image: {missing_kept}"
        return
    # the snippet's one build (image-build, image-run and every scenario read it) is made from this context:
    # a copy of its context without a .dockerignore, with the planted files (Builder.build)
    built = builder.build(snippet)
    assert built.planted == planted, f"snippets/{snippet.path} was not built from the planted context"
    files = image_files(built.tag)
    leaked = sorted(f for f in planted if _in_image(f, files))
    measure["leaked_files"] = leaked
    assert leaked == sorted(planted), (
        f"the text says without .dockerignore {planted} end up in the image; only {leaked} did"
    )


def single_stage_size(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    bad = builder.build(snippet)
    good = builder.build(_compare_snippet(snippet))
    ratio = bad.size / good.size
    min_ratio = float(snippet.settings.get("min_ratio", 10))
    measure.update(
        single_stage_mb=round(bad.size / 1e6, 1), multi_stage_mb=round(good.size / 1e6, 1), ratio=round(ratio, 1)
    )
    assert ratio >= min_ratio, (
        f"single-stage {bad.size / 1e6:.0f} MB vs multi-stage {good.size / 1e6:.1f} MB "
        f"is only {ratio:.1f}x (expected >= {min_ratio}x)"
    )


def runs_as_root(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    run = snippet.settings_for("run")
    built = builder.build(snippet)
    cid = dk.run_detached(built.tag, ports=[str(run["port"])], env=app_env(snippet))
    cleanup.append(cid)
    wait_http_ok(cid, run["port"], run["health"], 60)
    uid = process_uid(cid)
    measure["uid"] = uid
    assert uid == 0, f"the text says this image runs as root; the process uid is {uid}"


def hardened_fails(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    """The app cannot start under a read-only root filesystem (e.g. it logs to a file)."""
    built = builder.build(snippet)
    res = dk.run_once(built.tag, extra=HARDENED, check=False, timeout=60)
    measure.update(exit_code=res.returncode, output=(res.stdout + res.stderr)[-300:])
    assert res.returncode != 0, "expected the program to fail on a read-only root filesystem"


def glibc_in_alpine(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    """A glibc-linked binary on musl: the loader it asks for does not exist, the shell says 'not found'."""
    built = builder.build(snippet)
    res = dk.run_once(built.tag, check=False, timeout=60)
    out = res.stdout + res.stderr
    measure.update(exit_code=res.returncode, error=out.strip()[-300:])
    assert res.returncode != 0 and ("not found" in out or "no such file or directory" in out), (
        f"expected the glibc binary to fail on Alpine with 'not found'; exit {res.returncode}: {out[-500:]}"
    )


def no_sigterm_handling(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    """A Go program without signal handling, packaged by `harness:` with PROGRAM=`program:`:
    `docker stop` ends it at once (Go's default SIGTERM action), and a request in flight gets no answer."""
    harness = manifest.load()[snippet.settings["harness"]]
    run = harness.settings_for("run")
    port, path = int(run["port"]), snippet.settings.get("slow_path", "/work")
    built = builder.build(
        harness, extra_args={"PROGRAM": snippet.settings["program"]}, variant=slug(snippet.settings["program"])
    )
    cid = dk.run_detached(built.tag, ports=[str(port)])
    cleanup.append(cid)
    url = f"http://127.0.0.1:{_published(cid, port)}{path}"
    # the server serves the slow path (a full answer): the request below can reach it
    waiting.until(
        lambda: http_get(url, timeout=15)[0] == 200, timeout=60, what=f"{path} to answer", retry_on=(OSError,)
    )
    outcome: dict[str, object] = {}

    def request() -> None:
        try:
            outcome["status"] = http_get(url, timeout=15)[0]
        except OSError as exc:  # connection reset / empty reply
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        outcome["ended"] = time.monotonic()

    worker = threading.Thread(target=request)
    worker.start()
    time.sleep(0.5)  # sent; the handler needs 2 s, so the request is still open when the stop begins
    start = time.monotonic()
    assert "ended" not in outcome, f"the request ended before the stop ({outcome}): nothing was in flight"
    dk.docker("stop", "-t", str(GRACE), cid, timeout=GRACE + 30)
    elapsed = time.monotonic() - start
    worker.join(20)
    code = dk.inspect(cid, "container")["State"]["ExitCode"]
    in_flight = outcome.get("status", outcome.get("error"))
    measure.update(exit_code=code, seconds_to_stop=round(elapsed, 2), in_flight=in_flight)
    # SIGTERM's default action ended it (Go exits with 2 when it runs as PID 1, whose default signal
    # actions the kernel ignores; 143 otherwise): neither a clean exit (a handler) nor Docker's SIGKILL
    # when the grace period ran out (137) — no timing involved
    assert code not in (0, 137), f"exit code {code}: not ended by SIGTERM's default action: {dk.logs(cid)[-500:]}"
    assert "status" not in outcome, f"the in-flight request was answered ({outcome}); the text says it is cut off"
    assert outcome.get("ended", 0) >= start, "the request failed before the stop: it proves nothing"


GRACE = 10


def _published(cid: str, port: int) -> int:
    return waiting.until(
        lambda: dk.host_port(cid, port),
        timeout=15,
        what=f"port {port} to be published",
        retry_on=(dk.DockerError,),
        details=lambda: dk.describe_container(cid),
    ).value


SCENARIOS: dict[str, Callable[..., None]] = {
    "no-sigterm-handling": no_sigterm_handling,
    "glibc-in-alpine": glibc_in_alpine,
    "shell-form-sigterm": shell_form_sigterm,
    "cgo-in-scratch": cgo_in_scratch,
    "secret-in-history": secret_in_history,
    "no-dockerignore": no_dockerignore,
    "single-stage-size": single_stage_size,
    "runs-as-root": runs_as_root,
    "file-logging": hardened_fails,
}


@pytest.mark.check("image-antipattern")
@pytest.mark.timeout(900)
@pytest.mark.parametrize(("snippet", "scenario"), CASES, ids=[f"{s.path}::{sc}" for s, sc in CASES])
def test_antipattern_fails_as_described(
    snippet: Snippet, scenario: str, builder, container_cleanup: list[str], measure: dict, tmp_path: Path
) -> None:
    if scenario not in SCENARIOS:
        pytest.fail(f"{snippet.where()}: unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}", pytrace=False)
    measure["scenario"] = scenario
    measure["claim"] = snippet.claim
    SCENARIOS[scenario](snippet, builder, container_cleanup, measure, tmp_path)


def test_every_antipattern_names_a_scenario() -> None:
    """An `image-antipattern` entry without `scenario:` would otherwise never be exercised."""
    assert not UNNAMED, "\n".join(
        f"{s.where()}: image-antipattern needs `scenario:` (one of {sorted(SCENARIOS)})" for s in UNNAMED
    )
