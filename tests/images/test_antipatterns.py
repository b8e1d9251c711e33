"""The chapter's "❌" Dockerfiles fail exactly the way the text says (issue 7)."""

from __future__ import annotations

import io
import shutil
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from snipcheck import docker as dk
from snipcheck import manifest
from snipcheck.manifest import Snippet
from snipcheck.paths import SNIPPETS
from support import HARDENED, process_uid, wait_http_ok

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
    """Paths of every file in the image's filesystem (via docker create + export)."""
    cid = dk.docker("create", "--label", f"{dk.RUN_LABEL}={dk.RUN_ID}", tag, timeout=60).stdout.strip()
    try:
        raw = dk.docker_bytes("export", cid, timeout=300)
    finally:
        dk.remove_container(cid)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return {m.name.lstrip("./") for m in tar.getmembers()}


def shell_form_sigterm(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    run = snippet.settings.get("run") or {}
    grace = int(run.get("stop_timeout", 5))
    built = builder.build(snippet)
    cid = dk.run_detached(built.tag, ports=[str(run.get("port", 8080))], env=run.get("env"))
    cleanup.append(cid)
    wait_http_ok(f"http://127.0.0.1:{dk.host_port(cid, run.get('port', 8080))}{run.get('health', '/health/live')}",
                 cid, 30)
    start = time.monotonic()
    dk.docker("stop", "-t", str(grace), cid, timeout=grace + 30)
    elapsed = time.monotonic() - start
    code = dk.inspect(cid, "container")["State"]["ExitCode"]
    measure.update(seconds_to_stop=round(elapsed, 2), exit_code=code, stop_timeout=grace)
    assert code == 137 and elapsed >= grace - 0.5, (
        f"the text says SIGTERM never reaches the app, so docker stop waits {grace}s and kills it (137); "
        f"observed exit {code} after {elapsed:.1f}s")


def cgo_in_scratch(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    built = builder.build(snippet)
    res = dk.run_once(built.tag, extra=["--name", f"{dk.RUN_ID}-cgo"], check=False, timeout=60)
    out = res.stdout + res.stderr
    measure.update(exit_code=res.returncode, error=out.strip()[-300:])
    assert res.returncode != 0 and "no such file or directory" in out, (
        f"expected the dynamically linked binary to fail with 'no such file or directory'; "
        f"exit {res.returncode}, output: {out[-500:]}")


def secret_in_history(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    arg = snippet.settings.get("secret_arg", "GITHUB_TOKEN")
    canary = f"snipcheck-canary-{dk.RUN_ID}"
    built = builder.build(snippet, extra_args={arg: canary}, variant="canary")
    history = dk.docker("history", "--no-trunc", built.tag, timeout=60).stdout
    config = dk.docker("image", "inspect", built.tag, timeout=60).stdout
    measure.update(in_history=canary in history, in_image_config=canary in config)
    assert canary in history or canary in config, \
        f"the text says a token passed by ARG/ENV stays in the image; {arg} value not found in history/inspect"


def no_dockerignore(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    settings = snippet.settings.get("build") or {}
    src = SNIPPETS / settings.get("context", str(Path(snippet.path).parent))
    ctx = tmp / "context"
    shutil.copytree(src, ctx, ignore=shutil.ignore_patterns(".dockerignore"))
    (ctx / ".env").write_text(f"DB_PASSWORD=snipcheck-{dk.RUN_ID}\n")
    (ctx / ".git").mkdir(exist_ok=True)
    (ctx / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    built = builder.build(snippet, context=ctx, variant="noignore")
    files = image_files(built.tag)
    leaked = sorted(f for f in files if f.endswith("/.env") or f == ".env" or "/.git/" in f or f.startswith(".git/"))
    measure["leaked_files"] = leaked[:10]
    assert any(f.endswith(".env") for f in leaked) and any(".git/" in f for f in leaked), (
        f"the text says without .dockerignore .env and .git end up in the image; found {leaked[:10]}")
    if (src / ".dockerignore").is_file():
        shutil.copy(src / ".dockerignore", ctx / ".dockerignore")
        kept = builder.build(snippet, context=ctx, variant="withignore")
        clean = [f for f in image_files(kept.tag) if f.endswith(".env") or ".git/" in f]
        assert not clean, f"with the .dockerignore these still got in: {clean[:10]}"


def single_stage_size(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    bad = builder.build(snippet)
    good = builder.build(_compare_snippet(snippet))
    ratio = bad.size / good.size
    min_ratio = float(snippet.settings.get("min_ratio", 10))
    measure.update(single_stage_mb=round(bad.size / 1e6, 1), multi_stage_mb=round(good.size / 1e6, 1),
                   ratio=round(ratio, 1))
    assert ratio >= min_ratio, (f"single-stage {bad.size / 1e6:.0f} MB vs multi-stage {good.size / 1e6:.1f} MB "
                                f"is only {ratio:.1f}x (expected >= {min_ratio}x)")


def runs_as_root(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    run = snippet.settings.get("run") or {}
    built = builder.build(snippet)
    cid = dk.run_detached(built.tag, ports=[str(run.get("port", 8080))], env=run.get("env"))
    cleanup.append(cid)
    wait_http_ok(f"http://127.0.0.1:{dk.host_port(cid, run.get('port', 8080))}{run.get('health', '/health/live')}",
                 cid, 60)
    uid = process_uid(cid)
    measure["uid"] = uid
    assert uid == 0, f"the text says this image runs as root; the process uid is {uid}"


def hardened_fails(snippet: Snippet, builder, cleanup: list[str], measure: dict, tmp: Path) -> None:
    """The app cannot start under a read-only root filesystem (e.g. it logs to a file)."""
    built = builder.build(snippet)
    res = dk.run_once(built.tag, extra=HARDENED, check=False, timeout=60)
    measure.update(exit_code=res.returncode, output=(res.stdout + res.stderr)[-300:])
    assert res.returncode != 0, "expected the program to fail on a read-only root filesystem"


SCENARIOS: dict[str, Callable[..., None]] = {
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
def test_antipattern_fails_as_described(snippet: Snippet, scenario: str, builder, container_cleanup: list[str],
                                        measure: dict, tmp_path: Path) -> None:
    if scenario not in SCENARIOS:
        pytest.fail(f"{snippet.where()}: unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}", pytrace=False)
    measure["scenario"] = scenario
    measure["claim"] = snippet.claim
    SCENARIOS[scenario](snippet, builder, container_cleanup, measure, tmp_path)


@pytest.mark.check("image-antipattern")
@pytest.mark.parametrize("snippet", UNNAMED, ids=[s.path for s in UNNAMED])
def test_antipattern_names_a_scenario(snippet: Snippet) -> None:
    pytest.fail(f"{snippet.where()}: image-antipattern needs `scenario:` (one of {sorted(SCENARIOS)})",
                pytrace=False)
