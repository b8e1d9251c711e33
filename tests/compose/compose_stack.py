"""Fixtures for the compose tier: a compose project booted from a copy of snippets/, with ports on
127.0.0.1 only (host IPs as the files write them; every-interface ports moved to the loopback and
reported), images from the registry or the local kit, and teardown that leaves nothing behind.

Kit images (snipcheck.local/<upstream name>) reach the project through the test override only: `image:`
of a service that runs an upstream image the kit stands in for, and `build.additional_contexts` (named
contexts) / `build.args.BUILDKIT_SYNTAX` of a service that builds FROM one. Upstream names in the Docker
store are never tagged.

Manifest settings of a compose snippet (all optional):

    compose:
      files: [compose.yaml, compose.override.yaml]   # relative to the snippet's directory
      env_file: .env.example                          # relative to the snippet's directory
      boot_profiles: [dev]                            # profiles to boot (default: none)
      probes:                                         # HTTP probes after up --wait
        - {service: app, port: 8080, path: /health/ready, status: 200, contains: '"postgres"'}
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from snipcheck.harness.docker import buildkit as docker_buildkit
from snipcheck.harness.docker import cli as dk
from snipcheck.model import dockerfile as dfile
from snipcheck.model.manifest import MANIFEST_NAME, Snippet
from snipcheck.model.paths import SNIPPETS
from snipcheck.rules import exposure
from support import CALL_FAILED, http_get, recording, require, skip_needs_registry, slug


@dataclass
class Stack:
    snippet: Snippet
    project: str
    files: list[Path]
    env_file: Path | None
    profiles: list[str]
    workdir: Path
    reader_config: dict | None = None  # `docker compose config` of the reader's files, before the test override

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> dk.Result:
        return dk.compose(
            self.project,
            self.files,
            *args,
            env_file=self.env_file,
            profiles=self.profiles,
            timeout=timeout,
            check=check,
            cwd=self.workdir,
        )

    def port(self, service: str, port: int) -> int:
        out = self.compose("port", service, str(port), timeout=30).stdout.strip()
        return int(out.rsplit(":", 1)[1])

    def config(self) -> dict:
        return json.loads(self.compose("config", "--format", "json", timeout=60).stdout)

    def boot_and_probe(self, measure: dict, wait_timeout: int = 240) -> None:
        """`up --build --wait`, then the entry's HTTP probes; records seconds_to_healthy and the services."""
        start = time.monotonic()
        res = self.compose(
            "up", "-d", "--build", "--wait", "--wait-timeout", str(wait_timeout), "--pull", "never",
            timeout=wait_timeout + 660, check=False,
        )  # fmt: skip
        measure["seconds_to_healthy"] = round(time.monotonic() - start, 1)
        if res.returncode != 0:
            ps = self.compose("ps", "-a", timeout=30, check=False).stdout
            logs = self.compose("logs", "--no-color", "--tail", "60", timeout=60, check=False).stdout
            pytest.fail(
                f"`up --wait` failed for {self.snippet.path}:\n{res.stderr[-3000:]}\n{ps}\n{logs[-6000:]}",
                pytrace=False,
            )
        services = self.compose("ps", "--format", "json", timeout=30).stdout
        rows = (
            [json.loads(line) for line in services.splitlines() if line.strip()]
            if not services.startswith("[")
            else json.loads(services)
        )
        measure["services"] = sorted(r["Service"] for r in rows)
        measure["bindings"] = self.check_bindings(rows)
        for probe in (self.snippet.settings.get("compose") or {}).get("probes", []):
            url = f"http://127.0.0.1:{self.port(probe['service'], probe['port'])}{probe['path']}"
            status, body = http_get(url, timeout=10)
            assert status == probe.get("status", 200), f"{url}: HTTP {status} {body[:300]}"
            if "contains" in probe:
                assert probe["contains"] in body, f"{url}: {probe['contains']!r} not in {body[:300]}"

    def check_bindings(self, rows: list[dict]) -> list[str]:
        """Each running container publishes on the host IP the reader's files give (the loopback for a
        database); a port the files publish on every interface (declared public) is bound to 127.0.0.1 by
        the test override, so the run never opens a port to the network. Returns `service:ip->target`."""
        out: list[str] = []
        wrong: list[str] = []
        by_service = {r["Service"]: r for r in rows}
        for name, svc in sorted(((self.reader_config or {}).get("services") or {}).items()):
            for port in exposure.published(svc):
                if name not in by_service:
                    continue  # a service of another profile
                ports = dk.inspect(by_service[name]["ID"], "container")["NetworkSettings"]["Ports"] or {}
                key = f"{port['target']}/{port.get('protocol', 'tcp')}"
                bound = sorted({b["HostIp"] for b in ports.get(key) or []})
                want = "127.0.0.1" if exposure.on_all_interfaces(port) else port["host_ip"]
                label = "public, bound to 127.0.0.1 by the test" if exposure.on_all_interfaces(port) else "as written"
                out.append(f"{name}:{','.join(bound) or 'unbound'}->{port['target']} ({label})")
                if bound != [want]:
                    wrong.append(f"{name}:{port['target']} is bound on {bound or 'nothing'}, the files say {want}")
        assert not wrong, "published ports differ from the reader's files: " + "; ".join(wrong)
        return out

    def down_leaving_nothing(self) -> None:
        """`down -v`; then no container, network or volume of the project may be left."""
        self.compose("down", "-v", "--remove-orphans", "-t", "10", timeout=180)
        flt = f"label=com.docker.compose.project={self.project}"
        left = []
        for kind, cmd in (
            ("container", ["ps", "-aq"]),
            ("network", ["network", "ls", "-q"]),
            ("volume", ["volume", "ls", "-q"]),
        ):
            ids = dk.docker(*cmd, "--filter", flt, timeout=30).stdout.split()
            left += [f"{kind} {i}" for i in ids]
        assert not left, f"left behind after down -v: {left}"


READY = "ready to accept connections"


def docker_time(value: str) -> datetime:
    """Docker's RFC 3339 timestamps carry nanoseconds; datetime takes microseconds."""
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def postgres_ready_at(cid: str) -> datetime:
    """When PostgreSQL last logged that it accepts connections (after the init run, if any)."""
    logs = dk.docker("logs", "--timestamps", cid, timeout=30)
    ready = [line.split(" ", 1)[0] for line in (logs.stdout + logs.stderr).splitlines() if READY in line]
    if not ready:
        pytest.fail(f"no '{READY}' line in the PostgreSQL logs:\n{(logs.stdout + logs.stderr)[-2000:]}", pytrace=False)
    return max(docker_time(t) for t in ready)


def _project_name(snippet: Snippet) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", f"snip-{dk.RUN_ID}-{snippet.path}".lower())[:60].strip("-")


STARTUP_OVERRIDE = (
    "healthchecks probe every 1 s during start-up (start_interval: 1s, start_period at least "
    "interval x retries); the snippet's own interval, timeout and retries apply after that"
)


def _seconds(duration: str | None) -> float:
    """Compose durations as `config` prints them: 1m30s, 5s, 500ms."""
    total = 0.0
    for value, unit in re.findall(r"([\d.]+)(ms|h|m|s)", duration or ""):
        total += float(value) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total


def startup_probing(health: dict) -> dict:
    """Test-only: a service counts as healthy as soon as it is (`up --wait` waited up to a whole
    `interval` for the first probe). Failures in the start period never count, so nothing the
    snippet claims about unhealthy services changes."""
    interval = _seconds(health.get("interval")) or 30
    period = max(_seconds(health.get("start_period")), interval * int(health.get("retries") or 3))
    return {"start_interval": "1s", "start_period": f"{int(period)}s"}


def cache_volume_names(snippet: Snippet, config: dict) -> dict[str, str]:
    """The suite's persistent volume for each of the entry's `cache_volumes` (see checks.COMPOSE)."""
    wanted = (snippet.settings.get("compose") or {}).get("cache_volumes") or []
    unknown = [v for v in wanted if v not in (config.get("volumes") or {})]
    if unknown:
        pytest.fail(f"{snippet.where()}: cache_volumes {unknown} are not volumes of the project", pytrace=False)
    return {v: f"snipcheck-cache-{slug(snippet.path)}-{v}" for v in wanted}


CACHE_OVERRIDE = (
    "cache volumes {names} are the suite's own, kept between runs (a developer's second `up`); the first "
    "`up` on a machine compiles everything"
)


def _dockerfile(build: dict) -> Path:
    ctx = Path(build.get("context", "."))
    return ctx / build.get("dockerfile", "Dockerfile")


def kit_override(svc: dict) -> dict:
    """What one service needs to use the image kit's images instead of upstream names (empty in registry
    mode): its `image:` (a stand-in, e.g. snipcheck.local/postgres:16-alpine), or for a build the named
    contexts and BUILDKIT_SYNTAX that docker_buildkit.build would pass (docker_buildkit.kit_inputs)."""
    from snipcheck.harness import imagekit

    build = svc.get("build")
    if build:
        contexts, args = docker_buildkit.kit_inputs(
            _dockerfile(build), build.get("args") or {}, build.get("additional_contexts")
        )
        out: dict = {}
        if contexts:
            out["additional_contexts"] = contexts
        if args:
            out["args"] = args
        return {"build": out} if out else {}
    image = imagekit.stands_in(svc["image"]) if svc.get("image") else None
    return {"image": image} if image else {}


KIT_OVERRIDE = "kit images used through the override (named contexts, image:): {names}"


def _test_override(config: dict, project: str, dest: Path, caches: dict[str, str]) -> Path:
    """An override file for the test run: every published port republished on 127.0.0.1 with an
    ephemeral host port, images the project builds tagged per run (so teardown can remove them
    without touching anyone's `myapp:dev`), the kit's images where the run uses them (kit_override),
    fast probing during start-up (STARTUP_OVERRIDE), and the cache volumes mapped to persistent ones
    (CACHE_OVERRIDE)."""
    services: dict[str, dict] = {}
    for name, svc in config.get("services", {}).items():
        ports = svc.get("ports") or []
        if ports:
            # the host port becomes ephemeral (runs in parallel); the host IP stays as written, and a
            # port written for every interface is bound to the loopback: a test opens nothing to the network
            services.setdefault(name, {})["ports"] = [
                f"{'127.0.0.1' if exposure.on_all_interfaces(p) else p['host_ip']}::{p['target']}" for p in ports
            ]
        kit = kit_override(svc)
        if kit:
            services.setdefault(name, {}).update(kit)
        if svc.get("build"):
            services.setdefault(name, {})["image"] = f"snipcheck/{project}-{name}:{dk.RUN_ID}".lower()
        if svc.get("container_name"):
            # fixed names (as in the text) would collide between parallel runs
            services.setdefault(name, {})["container_name"] = "__RESET__"
        health = svc.get("healthcheck") or {}
        if health.get("test") and not health.get("disable") and health.get("test") != ["NONE"]:
            services.setdefault(name, {})["healthcheck"] = startup_probing(health)
    override: dict[str, dict] = {"services": services}
    if caches:
        override["volumes"] = {vol: {"name": name, "external": True} for vol, name in caches.items()}
    text = yaml.safe_dump(override, sort_keys=True)
    # `!override` replaces the list instead of appending to it (compose >= 2.24)
    text = re.sub(r"^(\s+)ports:\n", r"\1ports: !override\n", text, flags=re.M)
    text = text.replace("container_name: __RESET__", "container_name: !reset null")
    dest.write_text(text)
    return dest


def _needed_images(stack: Stack, config: dict) -> list[str]:
    refs: list[str] = []
    for svc in config.get("services", {}).values():
        build = svc.get("build")
        if build:
            parsed = dfile.parse(_dockerfile(build), build.get("args") or {})
            refs += dfile.required_images(parsed)
        elif svc.get("image"):
            refs.append(svc["image"])
    return list(dict.fromkeys(refs))


@pytest.fixture
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    problem = dk.engine_problem()
    require(problem is None, problem or "")
    snippet: Snippet = request.param
    settings = snippet.settings.get("compose") or {}
    # Boot from a copy of snippets/: bind mounts and tools like air write into the project
    # directory (mount points, tmp/), and the repository must stay as it was. The suite's manifest.yaml
    # files are not part of a reader's project: left in, every edit of one made each `build:` of the
    # project recompile (it is in the build context), as docker_buildkit.build avoids for the images tier.
    copy = tmp_path / "snippets"
    shutil.copytree(SNIPPETS, copy, symlinks=True, ignore=shutil.ignore_patterns(MANIFEST_NAME))
    base = copy / Path(snippet.path).parent
    files = [base / f for f in settings.get("files", [snippet.file.name])]
    env_file = base / settings["env_file"] if settings.get("env_file") else None
    st = Stack(snippet, _project_name(snippet), files, env_file, list(settings.get("boot_profiles", [])), base)
    config = st.config()
    st.reader_config = config
    from snipcheck.harness import imagekit

    sources = imagekit.ensure(_needed_images(st, config))
    missing = [f"{ref}: {src.describe()}" for ref, src in sources.items() if not src.available]
    if missing:
        skip_needs_registry(snippet, "needs registry: " + "; ".join(missing))
    caches = cache_volume_names(snippet, config)
    for name in caches.values():
        dk.cache_volume(name, "compose")
    st.files.append(_test_override(config, st.project, tmp_path / "snipcheck.override.yaml", caches))
    built = [
        f"snipcheck/{st.project}-{name}:{dk.RUN_ID}".lower()
        for name, svc in config.get("services", {}).items()
        if svc.get("build")
    ]
    request.node.stash[SOURCES] = {ref: src.describe() for ref, src in sources.items()}
    kit = sorted(src.image for src in sources.values() if src.kind in ("local", "standin"))
    recording(request.node).measurements["test_override"] = (
        STARTUP_OVERRIDE
        + ("; " + CACHE_OVERRIDE.format(names=", ".join(caches)) if caches else "")
        + ("; " + KIT_OVERRIDE.format(names=", ".join(kit)) if kit else "")
    )
    try:
        yield st
    finally:
        if request.node.stash.get(CALL_FAILED, False):
            logs = st.compose("logs", "--no-color", "--tail", "80", timeout=60, check=False)
            print(f"--- logs of {st.project} ---\n{logs.stdout[-8000:]}")
        st.compose("down", "-v", "--remove-orphans", "-t", "10", timeout=180, check=False)
        for tag in built:
            dk.remove_image(tag)


SOURCES = pytest.StashKey[dict]()
