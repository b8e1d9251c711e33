"""Every Dockerfile snippet builds; images run the way the chapter claims (issue 7)."""

from __future__ import annotations

import json
import shutil
import ssl
import tempfile
import time
from pathlib import Path

import pytest

from snipcheck.harness import elf
from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet, by_check
from snipcheck.model.paths import SNIPPETS
from support import HARDENED, app_env, copy_out, http_get, process_uid, wait_healthy, wait_http_ok

pytestmark = [pytest.mark.images]


def _ids(snips: list[Snippet]) -> list[str]:
    return [s.path for s in snips]


BUILD = by_check("image-build")
RUN = by_check("image-run")


def _compare_start(other: Snippet, builder, cleanup: list[str], port: int, run: dict) -> dict:
    """Start-up of the image this one is compared with (e.g. without UPX), measured the same way."""
    built = builder.build(other)
    started = time.monotonic()
    cid = dk.run_detached(built.tag, ports=[str(port)], extra=list(HARDENED), env=app_env(other))
    cleanup.append(cid)
    wait_http_ok(cid, port, run["health"], 30)
    return {
        "compared_with": other.path,
        "compared_image_mb": round(built.size / 1e6, 1),
        "compared_seconds_to_http_200": round(time.monotonic() - started, 2),
    }


@pytest.mark.check("image-build")
@pytest.mark.timeout(900)
@pytest.mark.parametrize("snippet", BUILD, ids=_ids(BUILD))
def test_dockerfile_builds(snippet: Snippet, builder, measure: dict, tmp_path: Path) -> None:
    if snippet.kind == "dockerignore":
        # a .dockerignore is proven by the build of its directory's Dockerfile, which it filters
        dockerfile = snippet.settings.get("dockerfile") or f"{Path(snippet.path).parent.as_posix()}/Dockerfile"
        built = builder.build(manifest.load()[dockerfile])
        measure.update(dockerfile=dockerfile, image_mb=round(built.size / 1e6, 1))
        return
    built = builder.build(snippet)
    measure.update(
        image_bytes=built.size,
        image_mb=round(built.size / 1e6, 1),
        build_seconds=round(built.seconds, 1),
        image_sources=built.sources,
    )
    if built.planted:  # the ❌ example is built the way its no-dockerignore scenario describes
        measure["planted_in_context"] = built.planted
    if snippet.settings.get("size_claim"):
        measure["size_claim"] = snippet.settings["size_claim"]
    cache = snippet.settings.get("layer_cache")
    if cache:
        measure.update(layer_cache_after_code_change=_layer_cache_after_change(snippet, cache, tmp_path))
    for platform in (snippet.settings.get("build") or {}).get("platforms", []):
        if platform == "linux/amd64":
            continue
        cross = builder.build(snippet, variant=platform.replace("/", "-"), platform=platform)
        cid = dk.docker("create", "--platform", platform, cross.tag, timeout=60).stdout.strip()
        try:
            binary = (cross.dockerfile.entrypoint or ["/server"])[0]
            with tempfile.TemporaryDirectory() as tmp:
                got = elf.machine(copy_out(cid, binary, Path(tmp)))
        finally:
            dk.remove_container(cid)
        want = {"linux/arm64": "AArch64", "linux/arm/v7": "ARM"}.get(platform, platform)
        measure[f"elf_machine_{platform}"] = got
        assert got == want, f"{platform} build produced a {got} binary, expected {want}"


def _layer_cache_after_change(snippet: Snippet, cache: dict, tmp: Path) -> dict:
    """Edit a source file in a copy of the context and rebuild: the dependency layer must stay cached and the
    compile step must run again. The rebuild stops when the compile step starts: BuildKit says at the start
    whether a step comes from its cache, and the compile's result is the image the build above made."""
    settings = snippet.settings.get("build") or {}
    ctx = tmp / "ctx"
    shutil.copytree(SNIPPETS / settings.get("context", str(Path(snippet.path).parent)), ctx)
    args = settings.get("args") or {}
    before = docker_buildkit.build_steps_until(ctx, "go build", dockerfile=snippet.file, build_args=args)
    with (ctx / cache["change"]).open("a") as fh:
        # unique text: an edit BuildKit has seen in an earlier run would be served from its cache
        fh.write(f"\n// edited by the layer-cache test, run {dk.RUN_ID} at {time.time_ns()}\n")
    after = docker_buildkit.build_steps_until(ctx, "go build", dockerfile=snippet.file, build_args=args)
    deps_cached = _cached(after, cache["cached"])
    compile_cached = _cached(after, "go build")
    assert _cached(before, "go build") is True, (
        f"the unedited copy of the context was not served from the cache: {before}"
    )
    assert deps_cached is True, f"after editing {cache['change']} the `{cache['cached']}` step was rebuilt: {after}"
    assert compile_cached is False, f"after editing {cache['change']} the compile step was not re-run: {after}"
    return {"dependencies_cached": deps_cached, "compile_rerun": not compile_cached}


def _cached(steps: dict[str, bool], instruction: str) -> bool | None:
    """Were the started steps whose name holds `instruction` all served from the cache? None: none started."""
    found = [cached for name, cached in steps.items() if instruction in name]
    return all(found) if found else None


@pytest.mark.check("image-run")
@pytest.mark.timeout(300)
@pytest.mark.parametrize("snippet", RUN, ids=_ids(RUN))
def test_image_runs_as_the_text_claims(
    snippet: Snippet, builder, container_cleanup: list[str], measure: dict, tmp_path: Path
) -> None:
    run = snippet.settings_for("run")
    build_args = (snippet.settings.get("build") or {}).get("args") or {}
    built = builder.build(snippet)
    port = int(run["port"])
    extra = [] if run.get("writable") else list(HARDENED)
    if built.dockerfile.healthcheck:
        extra += ["--health-interval", "1s"]  # same probe command, polled faster than the 30 s default
    started = time.monotonic()
    cid = dk.run_detached(built.tag, ports=[str(port)], extra=extra, env=app_env(snippet))
    container_cleanup.append(cid)
    measure.update(image_mb=round(built.size / 1e6, 1), hardened=not run.get("writable"), image_sources=built.sources)
    wait_http_ok(cid, port, run["health"], 30)
    measure["seconds_to_http_200"] = round(time.monotonic() - started, 2)
    base = f"http://127.0.0.1:{dk.host_port(cid, port)}"
    if built.dockerfile.healthcheck:
        measure["seconds_to_healthy"] = round(wait_healthy(cid, 60), 2)

    uid = process_uid(cid)
    measure["uid"] = uid
    assert uid != 0, "the process runs as root"
    if "uid" in run:
        assert uid == int(run["uid"]), f"process uid {uid}, the text says {run['uid']}"

    if "VERSION" in build_args and run.get("version_endpoint", True):
        status, body = http_get(base + "/version")
        assert status == 200, body
        info = json.loads(body)
        assert info.get("version") == build_args["VERSION"], info
        if "COMMIT" in build_args:
            assert info.get("commit") == build_args["COMMIT"], info

    json_probe = run.get("json")
    if json_probe:
        status, body = http_get(base + json_probe["path"])
        assert status == 200, body
        got = json.loads(body)
        for key, value in (json_probe.get("expect") or {}).items():
            assert got.get(key) == value, f"{json_probe['path']}: {key}={got.get(key)!r}, expected {value!r}"
    for path in run.get("files") or []:
        copy_out(cid, path, tmp_path)  # fails if the image lacks it
    if run.get("shell"):
        res = dk.docker("exec", cid, run["shell"], "-c", "id -u", timeout=30, check=False)
        measure["shell_id_u"] = res.stdout.strip()
        assert res.returncode == 0, f"the text says this image has a shell ({run['shell']}): {res.stderr}"

    binary = run.get("static_binary") or (built.dockerfile.entrypoint or [None])[0]
    measured = snippet.settings.get("measure") or []
    if binary and (run.get("static", True) or "binary-size" in measured):
        binary_file = copy_out(cid, binary, tmp_path)
        if "binary-size" in measured:
            measure["binary_mb"] = round(binary_file.stat().st_size / 1e6, 1)
        if run.get("static", True):
            interp = elf.interpreter(binary_file)
            measure["elf_interpreter"] = interp
            assert interp is None, f"{binary} is dynamically linked (asks for {interp})"
    if run.get("ca_bundle"):
        bundle = copy_out(cid, "/etc/ssl/certs/ca-certificates.crt", tmp_path)
        ctx = ssl.create_default_context(cafile=str(bundle))
        measure["ca_certs"] = len(ctx.get_ca_certs())
        assert measure["ca_certs"] > 50, "the CA bundle holds almost no certificates"
    if run.get("zoneinfo"):
        zone = copy_out(cid, "/usr/share/zoneinfo/Europe/Moscow", tmp_path)
        assert zone.read_bytes()[:4] == b"TZif", "zoneinfo is not there"
    if snippet.settings.get("size_claim"):
        measure["size_claim"] = snippet.settings["size_claim"]
    if "max_mb" in run:
        measure["size_budget_mb"] = run["max_mb"]
        assert built.size <= float(run["max_mb"]) * 1e6, (
            f"image is {built.size / 1e6:.1f} MB, over the {run['max_mb']} MB budget the text implies"
        )
    other = snippet.settings.get("compare_with")
    if other and "start-to-healthy" in measured:
        measure.update(_compare_start(manifest.load()[other], builder, container_cleanup, port, run))

    grace = int(run.get("stop_timeout", 10))
    start = time.monotonic()
    dk.docker("stop", "-t", str(grace), cid, timeout=grace + 30)
    stop_seconds = time.monotonic() - start
    state = dk.inspect(cid, "container")["State"]
    measure.update(seconds_to_stop=round(stop_seconds, 2), exit_code=state["ExitCode"])
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']} after SIGTERM:\n{dk.logs(cid)[-2000:]}"
    # exit 0 is the program's own exit: Docker's SIGKILL at the end of the grace period would give 137
    assert stop_seconds < grace, f"took {stop_seconds:.1f}s to stop (grace {grace}s)"
    wanted = run.get("shutdown_logs") or []
    messages = []
    for line in dk.logs(cid).splitlines():
        try:
            messages.append(json.loads(line).get("msg", ""))
        except (json.JSONDecodeError, AttributeError):
            continue
    for msg in wanted:
        assert any(msg in m for m in messages), f"no JSON log line with msg {msg!r}; saw {messages[-8:]}"
