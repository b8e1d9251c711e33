"""What each compose stack exposes, read from `docker compose config` of the reader's own files (no
test override): ports on the loopback unless declared public, credentials from required variables,
authenticated Redis, no restart-at-boot in development stacks (policy: snipcheck.rules.exposure).

Manifest settings used (all optional), under `compose.exposure`:
    public: ["app:8080"]          ports the text publishes on every interface on purpose
    purpose: development          the stack is a developer's: nothing restarts at boot
    literal_credentials: reason   why literal passwords are acceptable (the stack publishes nothing else)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from statictools import fail, ids
from test_compose_config import SNIPPETS, combinations, compose_cli, config, env_file_of

from snipcheck.model.manifest import Snippet
from snipcheck.rules import exposure

pytestmark = [pytest.mark.static, pytest.mark.timeout(120)]

NO_ENV = Path("/dev/null")  # no env file at all: not even a .env a contributor left in the directory


def effective_config(
    files: list[Path], env: Path | None, *, interpolate: bool = True, profiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    args = ["--format", "json"] + ([] if interpolate else ["--no-interpolate"])
    res = config(files, *args, env_file=env, profiles=profiles)
    if res.returncode != 0:
        fail(f"`docker compose config` of {[f.name for f in files]} failed:\n{res.stderr}")
    return json.loads(res.stdout)


def policy(snippet: Snippet) -> dict[str, Any]:
    return ((snippet.settings.get("compose") or {}).get("exposure")) or {}


def required_variables(raw: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for svc in (raw.get("services") or {}).values():
        for value in exposure.credentials(svc).values():
            m = re.match(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)", value)
            if m and exposure.REQUIRED_VARIABLE.match(value):
                names.add(m.group(1))
    return names


@pytest.mark.check("compose-config")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_compose_exposure(snippet: Snippet, measure: dict[str, Any]) -> None:
    compose_cli()
    _, env = env_file_of(snippet)
    if snippet.kind == "env":
        env = snippet.file
    rules = policy(snippet)
    # every profile the manifest declares is enabled: a service of any profile is judged
    declared = (snippet.settings.get("compose") or {}).get("profiles") or {}
    profiles = tuple(sorted(str(k) for k in declared if not str(k).startswith("__")))
    found: list[str] = []
    bindings: list[str] = []
    for files in combinations(snippet):
        label = " + ".join(f.name for f in files)
        eff = effective_config(files, env, profiles=profiles)
        raw = effective_config(files, env, interpolate=False, profiles=profiles)
        found += [
            f"[{label}] {p}"
            for p in exposure.problems(
                eff,
                raw,
                public=rules.get("public") or (),
                purpose=rules.get("purpose"),
                literal_credentials=rules.get("literal_credentials"),
            )
        ]
        for name, svc in sorted((eff.get("services") or {}).items()):
            for port in exposure.published(svc):
                host = "*" if exposure.on_all_interfaces(port) else port["host_ip"]
                bindings.append(f"{name}:{host}:{port['published']}->{port['target']}")
        # a missing .env stops compose, naming the variable, instead of starting with a default
        needed = required_variables(raw)
        if needed:
            res = config(files, "--quiet", env_file=NO_ENV, profiles=profiles)
            said = res.stderr
            if res.returncode == 0 or "required variable" not in said or not any(v in said for v in needed):
                found.append(
                    f"[{label}] without an env file `docker compose config` should stop on one of "
                    f"{sorted(needed)}; it exited {res.returncode}: {said.strip()[-300:]}"
                )
    measure["published"] = bindings
    measure["public"] = sorted(rules.get("public") or [])
    if found:
        fail(f"{snippet.where()}: the stack exposes what the text must not teach:\n  " + "\n  ".join(found))


# ---- the policy catches each kind of exposure -----------------------------------------------------


def _configs(tmp_path: Path, text: str, env: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    compose_cli()
    f = tmp_path / "compose.yaml"
    f.write_text(text, encoding="utf-8")
    envf = tmp_path / "test.env"
    envf.write_text(env, encoding="utf-8")
    return effective_config([f], envf), effective_config([f], envf, interpolate=False)


ORIGINAL_EXAMPLE_2 = """\
services:
  app:
    image: myapp:1.0
    ports: ["8080:8080", "9090:9090"]
    environment:
      - DB_PASSWORD=${DB_PASSWORD:-secret}
    restart: unless-stopped
  postgres:
    image: postgres:16-alpine
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:-secret}
    ports: ["5432:5432"]
  redis:
    image: redis:7-alpine
    command: redis-server --appendonly yes
    ports: ["6379:6379"]
  grafana:
    image: grafana/grafana:12.1.1
    ports: ["127.0.0.1:3000:3000"]
"""


def test_the_original_example_2_breaks_every_rule(tmp_path: Path) -> None:
    eff, raw = _configs(tmp_path, ORIGINAL_EXAMPLE_2)
    got = exposure.problems(eff, raw, public=["app:8080"], purpose="development")
    text = "\n".join(got)
    for expected in (
        "service app: port 9090:9090 is published on every interface",
        "service postgres: port 5432:5432 is published on every interface",
        "service redis: port 6379:6379 is published on every interface",
        "service redis: Redis publishes a port without a password",
        "service grafana: Grafana keeps its default login admin/admin",
        "service app: restart: unless-stopped in a development stack",
        "service app: environment DB_PASSWORD = '${DB_PASSWORD:-secret}' is not a required variable",
        "service postgres: environment POSTGRES_PASSWORD = '${DB_PASSWORD:-secret}' is not a required variable",
    ):
        assert expected in text, f"missing {expected!r} in:\n{text}"
    assert len(got) == 8, text


def test_the_fixed_stack_keeps_the_policy(tmp_path: Path) -> None:
    fixed = """\
services:
  app:
    image: myapp:1.0
    ports: ["8080:8080", "127.0.0.1:9090:9090"]
    environment:
      - DB_PASSWORD=${DB_PASSWORD:?set DB_PASSWORD in .env}
    restart: "no"
  redis:
    image: redis:7-alpine
    command: redis-server --requirepass ${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}
    environment:
      REDISCLI_AUTH: ${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}
    ports: ["127.0.0.1:6379:6379"]
"""
    eff, raw = _configs(tmp_path, fixed, "DB_PASSWORD=x\nREDIS_PASSWORD=y\n")
    assert exposure.problems(eff, raw, public=["app:8080"], purpose="development") == []
    # a stale public declaration and literal credentials next to a published database are caught
    stale = exposure.problems(eff, raw, public=["app:8080", "app:9090"])
    assert stale == ["compose.exposure.public names app:9090, which is not published on every interface (stale)"]
    literal = exposure.problems(eff, raw, public=["app:8080"], literal_credentials="dev only")
    assert any("redis: port 6379 is published while the stack keeps literal credentials" in p for p in literal)
    # and the stack stops without its env file, naming the variable
    res = config([tmp_path / "compose.yaml"], "--quiet", env_file=NO_ENV)
    assert res.returncode != 0 and "required variable" in res.stderr and "PASSWORD" in res.stderr, res.stderr
