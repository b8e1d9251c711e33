"""Facts that must agree across all declared snippets (snipcheck.rules.consistency does the reading).

- health probes (Dockerfile HEALTHCHECK, compose healthcheck, Kubernetes probes) of the Go service
  use its ports and routes, and run the binary where the Dockerfile puts it;
- compose healthcheck `test:` lists start with CMD or CMD-SHELL;
- GOMEMLIMIT is 80-90% of the container memory limit wherever both are set (compose, Kubernetes);
- every image reference is pinned (tag or digest, not latest), unless the entry teaches `latest`
  (expect: fails with hadolint_rules DL3007/DL3006, or `teaches_latest: true`);
- the Go version is the same everywhere: go.mod, golang image tags, workflow go-version;
- a Dockerfile declared `same_build_stage_as` another repeats that one's `go build` stage exactly, with the
  same build context, arguments and planted files, so BuildKit compiles the service once for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from statictools import fail

from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import SNIPPETS
from snipcheck.rules import consistency as cs

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]

SERVICE_DIR = SNIPPETS / "myapp"
COMPOSE_KINDS = {"compose"}
K8S_KINDS = {"kubernetes"}


@pytest.fixture(scope="module")
def declared() -> list[Snippet]:
    return sorted((s for s in manifest.load().values() if s.file.is_file()), key=lambda s: s.path)


@pytest.fixture(scope="module")
def routes() -> set[str]:
    found = cs.go_routes(SERVICE_DIR)
    if not found:
        fail(f"no HandleFunc/Handle routes found in {SERVICE_DIR}")
    return found


@pytest.fixture(scope="module")
def service_binaries(declared: list[Snippet]) -> set[str]:
    """Where the service's Dockerfiles put the binary (final stage of every Go-building Dockerfile)."""
    out: set[str] = set()
    for s in declared:
        if s.kind == "dockerfile" and s.expect != "fails":
            text = s.file.read_text(encoding="utf-8")
            st = cs.stages(text)
            if st and cs.builds_go(text):
                out |= cs.binary_destinations(st[-1])
    return out


def _docs(snippet: Snippet) -> Iterator[Any]:
    try:
        yield from (d for d in yaml.safe_load_all(snippet.file.read_text(encoding="utf-8")) if d)
    except yaml.YAMLError:
        return  # the parse and yamllint checks report it


def _report(problems: list[str]) -> None:
    if problems:
        fail("\n".join(problems))


def _is_service_image(image: Any) -> bool:
    repo = str(image).split("@")[0].rsplit("/", 1)[-1].split(":")[0]
    return repo == "myapp"


# ---- probes and binaries -----------------------------------------------------------------------


def dockerfile_probe_problems(text: str, where: str, routes: set[str]) -> list[str]:
    st = cs.stages(text)
    if not st or not cs.builds_go(text):
        return []
    cmd = cs.healthcheck(st[-1])
    if cmd is None:
        return []
    return cs.probe_problems(cmd, routes, cs.binary_destinations(st[-1]), where)


def compose_problems(
    doc: Any, compose_file: Path, where: str, routes: set[str], service_binaries: set[str]
) -> list[str]:
    problems: list[str] = []
    services = doc.get("services") if isinstance(doc, dict) else None
    for name, svc in (services or {}).items():
        if not isinstance(svc, dict):
            continue
        at = f"{where} service {name}"
        test = (svc.get("healthcheck") or {}).get("test")
        problems += cs.compose_test_problems(test, at)
        build = svc.get("build")
        binaries = service_binaries
        go_service = _is_service_image(svc.get("image", ""))
        if build is not None:
            ctx = build if isinstance(build, str) else build.get("context", ".")
            dfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            path = (compose_file.parent / ctx / dfile).resolve()
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                st = cs.stages(text)
                target = None if isinstance(build, str) else build.get("target")
                chosen = next((s for s in st if s.name == target), st[-1] if st else None)
                go_service = cs.builds_go(text)
                binaries = cs.binary_destinations(chosen) if chosen else set()
        cmd = cs.health_command(test)
        if go_service and cmd:
            problems += cs.probe_problems(cmd, routes, binaries, at)
        limit = ((svc.get("deploy") or {}).get("resources") or {}).get("limits", {}).get("memory") or svc.get(
            "mem_limit"
        )
        soft = cs.env_value(svc.get("environment"), "GOMEMLIMIT")
        if limit and soft:
            problems += [p for p in [cs.gomemlimit_problem(soft, limit, at)] if p]
    return problems


def _containers(doc: Any) -> list[dict[str, Any]]:
    out = []
    for key in ("containers", "initContainers"):
        for group in cs.walk(doc, key):
            out += [c for c in group or [] if isinstance(c, dict)]
    return out


def k8s_problems(doc: Any, where: str, routes: set[str], service_binaries: set[str]) -> list[str]:
    problems: list[str] = []
    for c in _containers(doc):
        at = f"{where} container {c.get('name')}"
        names = {p.get("name") for p in c.get("ports") or [] if isinstance(p, dict)}
        if _is_service_image(c.get("image", "")):
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                spec = c.get(probe) or {}
                http = spec.get("httpGet")
                if http:
                    port, path = http.get("port"), http.get("path", "/")
                    if isinstance(port, int) and port not in cs.APP_PORTS:
                        problems.append(f"{at} {probe}: port {port} is not the service's {sorted(cs.APP_PORTS)}")
                    if isinstance(port, str) and port not in names:
                        problems.append(f"{at} {probe}: named port {port} is not declared ({sorted(names)})")
                    if path not in routes:
                        problems.append(f"{at} {probe}: path {path} is not a route ({sorted(routes)})")
                if spec.get("exec"):
                    problems += cs.probe_problems(
                        [str(w) for w in spec["exec"].get("command", [])], routes, service_binaries, f"{at} {probe}"
                    )
        env = {e.get("name"): e.get("value") for e in c.get("env") or [] if isinstance(e, dict)}
        limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
        if env.get("GOMEMLIMIT") and limit:
            problems += [p for p in [cs.gomemlimit_problem(env["GOMEMLIMIT"], limit, at, kubernetes=True)] if p]
    return problems


def probe_problems(s: Snippet, routes: set[str], service_binaries: set[str]) -> list[str]:
    if s.expect == "fails":
        return []  # an anti-pattern may be inconsistent on purpose; its own checks cover it
    if s.kind == "dockerfile":
        return dockerfile_probe_problems(s.file.read_text(encoding="utf-8"), s.path, routes)
    if s.kind in COMPOSE_KINDS:
        return [p for doc in _docs(s) for p in compose_problems(doc, s.file, s.path, routes, service_binaries)]
    if s.kind in K8S_KINDS:
        return [p for doc in _docs(s) for p in k8s_problems(doc, s.path, routes, service_binaries)]
    return []


# ---- image pins --------------------------------------------------------------------------------


def teaches_latest(s: Snippet) -> bool:
    rules = {str(r) for r in s.settings.get("hadolint_rules", []) or []}
    return bool(s.settings.get("teaches_latest")) or (s.expect == "fails" and bool(rules & {"DL3007", "DL3006"}))


def image_refs(s: Snippet) -> list[str]:
    if s.kind == "dockerfile":
        return cs.external_images(s.file.read_text(encoding="utf-8"))
    if s.kind in COMPOSE_KINDS | K8S_KINDS | {"workflow", "yaml"}:
        refs = []
        for doc in _docs(s):
            refs += [cs.substitute(str(v), {}) for v in cs.walk(doc, "image") if isinstance(v, str)]
        return refs
    return []


def pin_problems(s: Snippet) -> list[str]:
    if teaches_latest(s):
        return []
    return [
        f"{s.path}: image {ref} is not pinned (no tag or digest, or `latest`)"
        for ref in image_refs(s)
        if not cs.is_pinned(ref)
    ]


# ---- the Go version ----------------------------------------------------------------------------


def go_versions(s: Snippet) -> list[tuple[str, str]]:
    """(where, major.minor) of every Go version a snippet names."""
    text = s.file.read_text(encoding="utf-8")
    out = []
    if s.file.name == "go.mod":
        out += [(f"{s.path} (go.mod)", v) for v in cs.gomod_versions(text)]
    for ref in image_refs(s):
        v = cs.golang_tag_version(ref)
        if v:
            out.append((f"{s.path} (image {ref})", v))
    if s.kind == "workflow":
        for doc in _docs(s):
            out += [(f"{s.path} (go-version)", str(v)) for v in cs.walk(doc, "go-version")]
    return out


def go_version_problems(found: list[tuple[str, str]]) -> list[str]:
    return [
        f"{where}: Go {v}, want {cs.GO_VERSION}"
        for where, v in found
        if v.strip("'\"") != cs.GO_VERSION and not v.startswith(cs.GO_VERSION + ".")
    ]


# ---- build stages declared shared ---------------------------------------------------------------


def _build_inputs(s: Snippet) -> dict[str, Any]:
    """What besides the Dockerfile decides a build stage's cache key: the context, the build
    arguments, the files the scenario plants in the context."""
    build = s.settings.get("build") or {}
    return {
        "context": build.get("context"),
        "args": build.get("args") or {},
        "planted": s.settings.get("planted") or [],
    }


def shared_stage_problems(s: Snippet, snippets: dict[str, Snippet]) -> list[str]:
    other_path = s.settings.get("same_build_stage_as")
    if other_path is None:
        return []
    other = snippets.get(other_path)
    if other is None or other.kind != "dockerfile":
        return [
            f"{s.where()}: same_build_stage_as {other_path!r} is not a declared Dockerfile (a path under snippets/)"
        ]
    mine, theirs = _build_inputs(s), _build_inputs(other)
    if mine != theirs:
        return [
            f"{s.where()}: same_build_stage_as {other_path}, but the builds differ in their inputs: {mine} vs {theirs}"
        ]
    return cs.shared_stage_problems(
        cs.go_build_stage(s.file.read_text(encoding="utf-8")),
        cs.go_build_stage(other.file.read_text(encoding="utf-8")),
        s.path,
        other_path,
    )


# ---- per snippet: every rule that concerns it, recorded as check `consistency` -------------------

CONCERNED_KINDS = {"dockerfile", "gomod", "workflow", "yaml"} | COMPOSE_KINDS | K8S_KINDS
SNIPPETS_BY_PATH = manifest.load()
CONCERNED = sorted((s for s in SNIPPETS_BY_PATH.values() if s.kind in CONCERNED_KINDS), key=lambda s: s.path)


@pytest.mark.check("consistency")
@pytest.mark.parametrize("snippet", CONCERNED, ids=[s.path for s in CONCERNED])
def test_snippet_agrees_with_the_rest(
    snippet: Snippet, routes: set[str], service_binaries: set[str], measure: dict[str, Any]
) -> None:
    versions = go_versions(snippet)
    measure.update(images=image_refs(snippet), go_versions=sorted({v for _, v in versions}))
    _report(
        probe_problems(snippet, routes, service_binaries)
        + pin_problems(snippet)
        + go_version_problems(versions)
        + shared_stage_problems(snippet, SNIPPETS_BY_PATH)
    )


def test_undeclared_go_modules_use_the_same_go(declared: list[Snippet]) -> None:
    gomods = [
        p for p in SNIPPETS.rglob("go.mod") if p.relative_to(SNIPPETS).as_posix() not in {s.path for s in declared}
    ]
    found = [
        (f"{p.relative_to(SNIPPETS)} (go.mod, undeclared)", v)
        for p in gomods
        for v in cs.gomod_versions(p.read_text(encoding="utf-8"))
    ]
    _report(go_version_problems(found))
    assert [v for s in declared for v in go_versions(s)], "no Go version found in any snippet"


# ---- the checks catch mismatches ---------------------------------------------------------------

ROUTES = {"/health/live", "/health/ready", "/version", "/api/v1/users", "/metrics"}

DOCKERFILE = """\
FROM golang:1.26-bookworm AS build
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/server /app/server
HEALTHCHECK --interval=10s CMD ["/server", "-health"]
ENTRYPOINT ["/app/server"]
"""


def test_binary_mismatch_is_caught() -> None:
    problems = dockerfile_probe_problems(DOCKERFILE, "Dockerfile", ROUTES)
    assert any("/server" in p and "/app/server" in p for p in problems), problems
    fixed = DOCKERFILE.replace('["/server", "-health"]', '["/app/server", "-health"]')
    assert dockerfile_probe_problems(fixed, "Dockerfile", ROUTES) == []


def test_probe_path_mismatch_is_caught() -> None:
    pod = yaml.safe_load("""
spec:
  containers:
    - name: app
      image: myapp:1.0.0
      ports: [{name: http, containerPort: 8080}]
      livenessProbe: {httpGet: {path: /healthz, port: http}}
      readinessProbe: {httpGet: {path: /health/ready, port: 8081}}
""")
    problems = k8s_problems(pod, "pod.yaml", ROUTES, {"/server"})
    assert any("/healthz" in p for p in problems), problems
    assert any("8081" in p for p in problems), problems
    assert len(problems) == 2, problems


def test_compose_healthcheck_form_and_url_are_caught(tmp_path: Path) -> None:
    doc = yaml.safe_load("""
services:
  app:
    image: myapp:1.0.0
    healthcheck: {test: ["curl", "-f", "http://localhost:8080/health"]}
  api:
    image: myapp:1.0.0
    healthcheck: {test: ["CMD", "wget", "-qO-", "http://localhost:8080/health/live"]}
""")
    problems = compose_problems(doc, tmp_path / "compose.yaml", "compose.yaml", ROUTES, {"/server"})
    assert any("must start with CMD" in p for p in problems), problems
    assert not any("service api" in p for p in problems), problems


def test_gomemlimit_mismatch_is_caught(tmp_path: Path) -> None:
    compose = yaml.safe_load("""
services:
  app:
    image: myapp:1.0.0
    environment: [GOMEMLIMIT=500MiB]
    deploy: {resources: {limits: {memory: 512M}}}
""")
    problems = compose_problems(compose, tmp_path / "compose.yaml", "compose.yaml", ROUTES, {"/server"})
    assert any("GOMEMLIMIT=500MiB" in p for p in problems), problems
    assert cs.gomemlimit_problem("450MiB", "512Mi", "k8s", kubernetes=True) is None
    assert cs.gomemlimit_problem("220MiB", "256Mi", "k8s", kubernetes=True) is None
    assert cs.gomemlimit_problem("256MiB", "256M", "k8s", kubernetes=True) is not None  # 256M < 256MiB
    assert cs.gomemlimit_problem("900MiB", "1g", "compose") is None
    assert cs.gomemlimit_problem("200MiB", "1g", "compose") is not None


def test_unpinned_images_are_caught() -> None:
    assert cs.external_images("ARG GO=1.26\nFROM golang:${GO}-bookworm AS b\nFROM b\nFROM scratch\n") == [
        "golang:1.26-bookworm"
    ]
    assert not cs.is_pinned("golang:latest")
    assert not cs.is_pinned("golang")
    assert not cs.is_pinned("localhost:5000/myapp")
    assert cs.is_pinned("localhost:5000/myapp:1.2.3")
    assert cs.is_pinned("gcr.io/distroless/static-debian12@sha256:" + "0" * 64)
    assert cs.is_pinned(cs.substitute("myapp:${TAG:-1.0.0}", {}))


def test_go_version_mismatch_is_caught() -> None:
    assert cs.gomod_versions("module x\n\ngo 1.23.4\n\ntoolchain go1.26.1\n") == ["1.23", "1.26"]
    assert cs.golang_tag_version("golang:1.23-alpine") == "1.23"
    assert cs.golang_tag_version("docker.io/library/golang:1.26") == "1.26"
    assert cs.golang_tag_version("gcr.io/distroless/static") is None


# ---- numeric users, the shutdown budget, release tags -------------------------------------------

RELEASE_IMAGE = re.compile(r"ghcr\.io/myorg/myapp:(?P<tag>v?\d[\w.-]*)")


def test_final_users_are_numeric(declared: list[Snippet]) -> None:
    problems = [
        p
        for s in declared
        if s.kind == "dockerfile" and s.expect != "fails"
        for p in [cs.user_problem(s.file.read_text(encoding="utf-8"), s.path)]
        if p
    ]
    _report(problems)


def test_deployments_delay_shutdown_within_the_grace_period(declared: list[Snippet]) -> None:
    deployments = [
        (s, doc)
        for s in declared
        if s.kind in K8S_KINDS
        for doc in _docs(s)
        if isinstance(doc, dict) and doc.get("kind") == "Deployment"
    ]
    assert deployments, "no Kubernetes Deployment declared — the budget check has nothing to check"
    _report([p for s, doc in deployments for p in cs.shutdown_budget_problems(doc, s.path)])


def pulled_release_tags(declared: list[Snippet]) -> list[tuple[str, str]]:
    """(where, tag) of every reference to the released image, and kustomize `newTag`s."""
    found = []
    for s in declared:
        text = s.file.read_text(encoding="utf-8", errors="replace")
        found += [(s.path, m["tag"]) for m in RELEASE_IMAGE.finditer(text)]
        if s.kind == "kustomization":
            for doc in _docs(s):
                found += [
                    (s.path, str(i["newTag"]))
                    for i in doc.get("images") or []
                    if isinstance(i, dict) and "myorg/myapp" in str(i.get("name")) and "newTag" in i
                ]
    return found


def test_release_tags_agree_with_the_workflow(declared: list[Snippet]) -> None:
    workflows = [doc for s in declared if s.kind == "workflow" for doc in _docs(s)]
    patterns = [p for doc in workflows for p in cs.semver_patterns(doc)]
    pulled = pulled_release_tags(declared)
    assert len(pulled) >= 5, f"expected the manifests to pull ghcr.io/myorg/myapp:v…, found {pulled}"
    _report(cs.release_tag_problems(patterns, pulled))


def test_named_user_is_caught() -> None:
    bad = "FROM golang:1.26 AS b\nUSER 1000\nFROM alpine:3.23\nRUN adduser -D -u 10001 appuser\nUSER appuser\n"
    assert "USER appuser" in (cs.user_problem(bad, "Dockerfile") or "")
    assert cs.user_problem(bad.replace("USER appuser", "USER 10001:10001"), "Dockerfile") is None
    assert cs.user_problem("FROM scratch\n", "Dockerfile") is None


def test_missing_shutdown_delay_and_short_grace_are_caught() -> None:
    doc = yaml.safe_load("""
kind: Deployment
spec:
  template:
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: myapp
          image: ghcr.io/myorg/myapp:v1.0.0
          env: [{name: SHUTDOWN_TIMEOUT, value: 20s}]
""")
    problems = cs.shutdown_budget_problems(doc, "deployment.yaml")
    assert any("no SHUTDOWN_DELAY" in p for p in problems), problems
    assert any("must exceed SHUTDOWN_DELAY 0s + SHUTDOWN_TIMEOUT 20s" in p for p in problems), problems
    pod = doc["spec"]["template"]["spec"]
    pod["terminationGracePeriodSeconds"] = 30
    pod["containers"][0]["env"].append({"name": "SHUTDOWN_DELAY", "value": "5s"})
    assert cs.shutdown_budget_problems(doc, "deployment.yaml") == []


def test_semver_tag_without_v_is_caught() -> None:
    workflow = yaml.safe_load("""
jobs:
  build:
    steps:
      - uses: docker/metadata-action@v6
        with:
          tags: |
            type=sha
            type=semver,pattern={{version}}
""")
    patterns = cs.semver_patterns(workflow)
    assert patterns == ["{{version}}"]
    problems = cs.release_tag_problems(patterns, [("k8s/deployment.yaml", "v1.0.0")])
    assert any("pulls tag v1.0.0" in p for p in problems), problems
    assert cs.release_tag_problems(["v{{version}}"], [("k8s/deployment.yaml", "v1.0.0")]) == []


SHARED_STAGE = """\
# --8<-- [start:builder]
FROM golang:1.26-bookworm AS builder
WORKDIR /build
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build \\
    -o /app/server ./cmd/server

FROM scratch
COPY --from=builder /app/server /server
"""


def test_shared_build_stage_differences_are_caught() -> None:
    stage = cs.go_build_stage(SHARED_STAGE)
    assert stage[0] == "FROM golang:1.26-bookworm" and stage[-1].startswith("RUN CGO_ENABLED=0 go build"), stage
    # what BuildKit does not key on: comments, blank lines, the stage's name, the final stage
    alike = "# a comment\n" + SHARED_STAGE.replace("AS builder", "AS build").replace("COPY . .\n", "\nCOPY . .\n")
    alike = alike.replace("FROM scratch", "FROM debian:bookworm-slim")
    assert cs.shared_stage_problems(cs.go_build_stage(alike), stage, "a", "b") == []
    different = {
        "WORKDIR": SHARED_STAGE.replace("WORKDIR /build", "WORKDIR /src"),
        "the indentation of a continued line": SHARED_STAGE.replace("    -o /app", "  -o /app"),
        "an instruction more": SHARED_STAGE.replace("COPY . .\n", "COPY . .\nENV GOFLAGS=-mod=mod\n"),
        "an instruction fewer": SHARED_STAGE.replace("RUN go mod download\n", ""),
        "the base image": SHARED_STAGE.replace("golang:1.26-bookworm", "golang:1.26"),
    }
    for what, text in different.items():
        problems = cs.shared_stage_problems(cs.go_build_stage(text), stage, "a/Dockerfile", "b/Dockerfile")
        assert problems and "a/Dockerfile: same_build_stage_as b/Dockerfile" in problems[0], (what, problems)
    assert "has no stage that runs `go build`" in cs.shared_stage_problems([], stage, "a", "b")[0]


def test_shared_build_stage_inputs_and_target_are_checked(tmp_path: Path) -> None:
    def entry(path: str, **settings: Any) -> Snippet:
        return Snippet(path, "dockerfile", "works", ["image-build"], tmp_path / "manifest.yaml", 3, settings=settings)

    caching = entry("docker/caching/Dockerfile", build={"context": "myapp"})
    assert shared_stage_problems(entry("x/Dockerfile"), {}) == []  # nothing declared, nothing checked
    planted = entry(
        "x/Dockerfile", build={"context": "myapp"}, planted=[".env"], same_build_stage_as="docker/caching/Dockerfile"
    )
    assert "differ in their inputs" in shared_stage_problems(planted, {caching.path: caching})[0]
    other_args = entry(
        "x/Dockerfile", build={"context": "myapp", "args": {"V": "1"}}, same_build_stage_as="docker/caching/Dockerfile"
    )
    assert "differ in their inputs" in shared_stage_problems(other_args, {caching.path: caching})[0]
    unknown = entry("x/Dockerfile", build={"context": "myapp"}, same_build_stage_as="docker/nope/Dockerfile")
    assert "is not a declared Dockerfile" in shared_stage_problems(unknown, {caching.path: caching})[0]
