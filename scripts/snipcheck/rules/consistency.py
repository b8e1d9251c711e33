"""Facts that must agree across snippets: routes and ports, binary paths, memory limits, image pins,
the Go version. Pure functions over file text; tests/static/test_consistency.py applies them to
every declared snippet (and to deliberately broken inputs).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from ..model.dockerfile import Stage, exec_or_shell, external_images, logical_lines, stages, substitute  # noqa: F401

GO_VERSION = "1.26"
APP_PORTS = {8080, 9090}  # the service's HTTP port and metrics port
ROUTE = re.compile(r"\b(?:HandleFunc|Handle)\(\s*\"(?:[A-Z]+\s+)?(/[^\"\s]*)\"")
URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d+))?(/[^\s\"']*)?")
GOMEMLIMIT_RANGE = (0.80, 0.90)


# ---- the Go service ----------------------------------------------------------------------------


def go_routes(service_dir: Path) -> set[str]:
    """Paths registered with HandleFunc/Handle in the service's non-test Go files."""
    routes: set[str] = set()
    for f in service_dir.rglob("*.go"):
        if not f.name.endswith("_test.go"):
            routes |= set(ROUTE.findall(f.read_text(encoding="utf-8")))
    return routes


# ---- Dockerfiles -------------------------------------------------------------------------------


def binary_destinations(stage: Stage) -> set[str]:
    """Paths a stage puts files at: COPY/ADD destinations (dir/ + source name) and `go build -o`."""
    out: set[str] = set()
    for instr, rest in stage.instructions:
        if instr in ("COPY", "ADD"):
            words = [w for w in exec_or_shell(rest) if not w.startswith("--")]
            if len(words) >= 2:
                dest = words[-1]
                if dest.endswith("/"):
                    out |= {dest + Path(src).name for src in words[:-1]}
                else:
                    out.add(dest)
        elif instr == "RUN":
            out |= set(re.findall(r"\bgo\s+build\b[^&;|]*?\s-o[= ]\s*(\S+)", rest))
    return out


def go_build_stage(text: str) -> list[str]:
    """The stage that runs `go build`, up to and including that RUN, as BuildKit keys it: each
    instruction verbatim (continuation lines kept as written), comment and blank lines dropped, the
    stage's own name dropped from FROM. Two Dockerfiles whose lists are equal (same context, same build
    arguments) compile once: BuildKit reuses the identical steps. [] when no stage runs `go build`."""
    out: list[str] = []
    for instruction in logical_lines(text, verbatim=True):
        if re.match(r"(?i)FROM\s", instruction):
            out = [re.sub(r"(?i)\s+AS\s+\S+$", "", instruction)]
        elif out:
            out.append(instruction)
            if re.match(r"(?i)RUN\s", instruction) and builds_go(instruction):
                return out
    return []


def shared_stage_problems(stage: list[str], other: list[str], where: str, other_where: str) -> list[str]:
    """Why a Dockerfile declared to share its build stage with another does not (first difference)."""
    if not stage or not other:
        missing = where if not stage else other_where
        return [f"{where}: same_build_stage_as {other_where}, but {missing} has no stage that runs `go build`"]
    for i, (mine, theirs) in enumerate(zip(stage, other, strict=False), start=1):
        if mine != theirs:
            return [
                f"{where}: same_build_stage_as {other_where}, but instruction {i} of the build stage differs:"
                f" {mine!r} vs {theirs!r} — BuildKit compiles the service once more; make the stages"
                " identical or remove same_build_stage_as"
            ]
    if len(stage) != len(other):
        return [
            f"{where}: same_build_stage_as {other_where}, but the build stages have"
            f" {len(stage)} and {len(other)} instructions"
        ]
    return []


def healthcheck(stage: Stage) -> list[str] | None:
    """The HEALTHCHECK command of a stage (exec or shell form), None if there is none or NONE."""
    for instr, rest in reversed(stage.instructions):
        if instr == "HEALTHCHECK":
            if rest.upper().startswith("NONE"):
                return None
            m = re.search(r"\bCMD\b\s*(.*)$", rest)
            return exec_or_shell(m[1]) if m else []
    return None


def builds_go(text: str) -> bool:
    return re.search(r"\bgo\s+build\b", text) is not None


# ---- probes ------------------------------------------------------------------------------------


def probe_problems(command: list[str] | str, routes: set[str], binaries: set[str] | None, where: str) -> list[str]:
    """A health command agrees with the service: known binary (`-health` flag) or a route on an app port."""
    words = command if isinstance(command, list) else shlex.split(command)
    text = substitute(" ".join(words), {})  # ${PORT:-8080} → 8080
    problems = []
    for port, path in URL.findall(text):
        if port and int(port) not in APP_PORTS:
            problems.append(f"{where}: probe port {port} is not the service's ({sorted(APP_PORTS)})")
        if (path or "/") not in routes:
            problems.append(f"{where}: probe path {path or '/'} is not a route of the service ({sorted(routes)})")
    if (
        not URL.search(text)
        and words
        and words[0].startswith("/")
        and binaries is not None
        and words[0] not in binaries
    ):
        problems.append(
            f"{where}: health command runs {words[0]}, but the image puts its binary at "
            f"{sorted(binaries) or 'no known path'}"
        )
    return problems


def compose_test_problems(test: Any, where: str) -> list[str]:
    """A compose healthcheck `test:` list starts with CMD or CMD-SHELL (or NONE to disable)."""
    if isinstance(test, list) and (not test or test[0] not in ("CMD", "CMD-SHELL", "NONE")):
        return [f"{where}: healthcheck test {test} must start with CMD or CMD-SHELL"]
    return []


def health_command(test: Any) -> list[str] | None:
    if isinstance(test, str):
        return shlex.split(test)
    if isinstance(test, list) and test and test[0] == "CMD":
        return [str(t) for t in test[1:]]
    if isinstance(test, list) and test and test[0] == "CMD-SHELL":
        return shlex.split(" ".join(str(t) for t in test[1:]))
    return None


# ---- memory ------------------------------------------------------------------------------------

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "kb": 1024,
    "mb": 1024**2,
    "gb": 1024**3,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SI = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def memory_bytes(value: Any, *, kubernetes: bool = False) -> int | None:
    """Bytes of a memory amount: Go GOMEMLIMIT (MiB, GiB, B), compose (512m, 1g) or k8s (Mi, M, G)."""
    if isinstance(value, int | float):
        return int(value)
    m = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", str(value))
    if not m:
        return None
    number, unit = float(m[1]), m[2]
    if kubernetes and unit in _SI:  # k8s: M = 10^6, Mi = 2^20
        return int(number * _SI[unit])
    factor = _UNITS.get(unit.lower())
    return int(number * factor) if factor else None


def gomemlimit_problem(gomemlimit: Any, limit: Any, where: str, *, kubernetes: bool = False) -> str | None:
    soft, hard = memory_bytes(gomemlimit), memory_bytes(limit, kubernetes=kubernetes)
    if soft is None or hard is None or hard == 0:
        return f"{where}: cannot read GOMEMLIMIT={gomemlimit!r} / memory limit {limit!r}"
    ratio = soft / hard
    lo, hi = GOMEMLIMIT_RANGE
    if not lo <= ratio <= hi:
        return f"{where}: GOMEMLIMIT={gomemlimit} is {ratio:.0%} of the memory limit {limit} (want {lo:.0%}-{hi:.0%})"
    return None


def env_value(env: Any, key: str) -> Any:
    """A variable from a compose `environment:` (mapping or KEY=VALUE list)."""
    if isinstance(env, dict):
        return env.get(key)
    if isinstance(env, list):
        for item in env:
            k, sep, v = str(item).partition("=")
            if k == key and sep:
                return v
    return None


# ---- image references and Go versions ----------------------------------------------------------


def is_pinned(ref: str) -> bool:
    """A tag (not `latest`) or a digest. Unresolved variables in the tag count as a tag."""
    if "@sha256:" in ref:
        return True
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    return last.split(":", 1)[1] not in ("latest", "")


def golang_tag_version(ref: str) -> str | None:
    m = re.match(r"^(?:docker\.io/)?(?:library/)?golang:(\d+\.\d+)", ref)
    return m[1] if m else None


def gomod_versions(text: str) -> list[str]:
    """The `go` directive's and the `toolchain` line's major.minor."""
    out = [m[1] for m in re.finditer(r"^go\s+(\d+\.\d+)", text, re.M)]
    out += [m[1] for m in re.finditer(r"^toolchain\s+go(\d+\.\d+)", text, re.M)]
    return out


def walk(node: Any, key: str) -> list[Any]:
    """Every value under `key` anywhere in a parsed YAML tree."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found += walk(v, key)
    elif isinstance(node, list):
        for v in node:
            found += walk(v, key)
    return found


# ---- users, shutdown budget, release tags ------------------------------------------------------

NUMERIC_USER = re.compile(r"\d+(?::\d+)?")
DEFAULT_GRACE_SECONDS = 30  # Kubernetes' default terminationGracePeriodSeconds
DEFAULT_SHUTDOWN_TIMEOUT = 8.0  # the service's SHUTDOWN_TIMEOUT default (internal/config)
DEFAULT_SHUTDOWN_DELAY = 0.0  # the service's SHUTDOWN_DELAY default
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def final_user(text: str) -> str | None:
    """The last USER of the final stage, or None when it sets none."""
    st = stages(text)
    if not st:
        return None
    users = [rest for instr, rest in st[-1].instructions if instr == "USER"]
    return users[-1].strip() if users else None


def user_problem(text: str, where: str) -> str | None:
    """A final-stage USER must be numeric (uid or uid:gid): `runAsNonRoot` can only verify numbers."""
    user = final_user(text)
    if user is None or NUMERIC_USER.fullmatch(user):
        return None
    return (
        f"{where}: final stage runs as USER {user} — use a numeric uid[:gid] (e.g. USER 10001), "
        f"which Kubernetes `runAsNonRoot: true` can verify"
    )


def go_duration_seconds(value: Any) -> float | None:
    """Seconds of a Go duration string such as 5s, 1m30s, 500ms."""
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def shutdown_budget_problems(doc: Any, where: str) -> list[str]:
    """A Deployment of the service waits before closing its listener (SHUTDOWN_DELAY > 0 or a preStop
    hook), and terminationGracePeriodSeconds exceeds the delay plus SHUTDOWN_TIMEOUT."""
    if not isinstance(doc, dict) or doc.get("kind") != "Deployment":
        return []
    pod = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    grace = pod.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    problems = []
    for c in pod.get("containers") or []:
        if not isinstance(c, dict) or "myapp" not in str(c.get("image", "")).rsplit("/", 1)[-1]:
            continue
        at = f"{where} container {c.get('name')}"
        env = {e.get("name"): e.get("value") for e in c.get("env") or [] if isinstance(e, dict)}
        delay = go_duration_seconds(env.get("SHUTDOWN_DELAY", f"{DEFAULT_SHUTDOWN_DELAY}s"))
        timeout = go_duration_seconds(env.get("SHUTDOWN_TIMEOUT", f"{DEFAULT_SHUTDOWN_TIMEOUT}s"))
        if delay is None or timeout is None:
            problems.append(f"{at}: cannot read SHUTDOWN_DELAY/SHUTDOWN_TIMEOUT as Go durations")
            continue
        pre_stop = (c.get("lifecycle") or {}).get("preStop")
        if delay <= 0 and not pre_stop:
            problems.append(
                f"{at}: no SHUTDOWN_DELAY and no preStop hook — the listener closes at once while "
                f"kube-proxy and ingresses still route to the Pod; set SHUTDOWN_DELAY (e.g. 5s)"
            )
        if not grace > delay + timeout:
            problems.append(
                f"{at}: terminationGracePeriodSeconds {grace} must exceed SHUTDOWN_DELAY {delay:g}s + "
                f"SHUTDOWN_TIMEOUT {timeout:g}s, or SIGKILL cuts the drain short"
            )
    return problems


def semver_patterns(workflow: Any) -> list[str]:
    """`pattern=` values of `type=semver` lines in docker/metadata-action steps of a workflow."""
    out = []
    for step in walk(workflow, "steps"):
        for s in step or []:
            if isinstance(s, dict) and str(s.get("uses", "")).startswith("docker/metadata-action@"):
                for line in str((s.get("with") or {}).get("tags", "")).splitlines():
                    fields = dict(f.split("=", 1) for f in line.strip().split(",") if "=" in f)
                    if fields.get("type") == "semver" and "pattern" in fields:
                        out.append(fields["pattern"])
    return out


def release_tag_problems(patterns: list[str], pulled_tags: list[tuple[str, str]]) -> list[str]:
    """Every `vX.Y.Z` tag pulled elsewhere (where, tag) is a tag the release workflow pushes."""
    if not patterns:
        return ["no type=semver tags in the docker/metadata-action step — the release tags are not defined"]
    pushed = {
        p.replace("{{version}}", "1.0.0").replace("{{major}}.{{minor}}", "1.0").replace("{{major}}", "1")
        for p in patterns
    }
    problems = []
    for where, tag in pulled_tags:
        shape = re.sub(r"\d+", "N", tag)
        if not any(re.sub(r"\d+", "N", p) == shape for p in pushed):
            problems.append(
                f"{where}: pulls tag {tag}, but the release workflow pushes only "
                f"{sorted(pushed)} shapes — make the metadata-action patterns and the tag agree"
            )
    return problems
