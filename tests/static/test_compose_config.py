"""`docker compose config`: every compose snippet resolves with no warning, no unset variable, and the
services each profile declares. Needs the Docker CLI with its compose plugin, not a running engine.

Manifest settings used (all optional):
    env_file: path             passed as --env-file (relative to the manifest's directory or snippets/;
                               or compose.env_file, relative to the compose file)
    compose:
      files: [a.yaml, b.yaml]  the -f combination to validate (or a list of such lists); the snippet
                               itself is validated alone when no combination is given
      profiles: {name: [services]}   `--profile name config --services` must list exactly these
    compose_error: text        for expect: fails, a text the failure output must contain
                               (see statictools.expected_failure)
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from statictools import INSTALL_HINT, expected_failure, fail, ids, require, resolve

from snipcheck.harness.docker import cli as dk
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet

pytestmark = [pytest.mark.static, pytest.mark.timeout(120)]

SNIPPETS = manifest.by_check("compose-config")
_COUNTER = itertools.count()
WARNING = re.compile(r"level=warn|WARN\[|\bwarning\b", re.I)


def compose_cli() -> None:
    ok = shutil.which("docker") is not None
    require(
        ok, f"the docker CLI is not installed ({INSTALL_HINT}; the engine: sudo bash scripts/install-docker-engine.sh)"
    )
    res = dk.docker("compose", "version", timeout=30, check=False)
    require(res.returncode == 0, "the docker compose plugin is missing (sudo bash scripts/install-docker-engine.sh)")


def project() -> str:
    return f"snipcfg-{dk.RUN_ID}-{next(_COUNTER)}".lower()


def config(files: list[Path], *args: str, env_file: Path | None = None, profiles: tuple[str, ...] = ()) -> dk.Result:
    return dk.compose(
        project(),
        files,
        "config",
        *args,
        env_file=env_file,
        profiles=profiles,
        timeout=60,
        check=False,
        cwd=files[0].parent,
    )


def problems(res: dk.Result) -> list[str]:
    """Non-zero exit or any warning line on stderr."""
    out = []
    if res.returncode != 0:
        out.append(f"exit {res.returncode}")
    out += [line for line in res.stderr.splitlines() if WARNING.search(line)]
    return out


def combinations(snippet: Snippet) -> list[list[Path]]:
    spec = (snippet.settings.get("compose") or {}).get("files")
    if not spec:
        return [[snippet.file]]
    combos = spec if all(isinstance(x, list) for x in spec) else [spec]
    out = []
    for combo in combos:
        paths = [resolve(snippet, str(f)) for f in combo]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            fail(f"{snippet.where()}: compose.files names missing files {missing}")
        if snippet.kind != "env" and snippet.file.resolve() not in paths:
            fail(f"{snippet.where()}: compose.files {combo} does not include the snippet itself")
        out.append(paths)
    return out


def env_file_of(snippet: Snippet) -> tuple[str | None, Path | None]:
    """`env_file` (manifest-relative) or `compose.env_file` (relative to the compose file)."""
    top = snippet.settings.get("env_file")
    if top:
        return str(top), resolve(snippet, str(top))
    inner = (snippet.settings.get("compose") or {}).get("env_file")
    if inner:
        near = (snippet.file.parent / str(inner)).resolve()
        return str(inner), near if near.is_file() else resolve(snippet, str(inner))
    return None, None


@pytest.mark.check("compose-config")
@pytest.mark.parametrize("snippet", SNIPPETS, ids=ids(SNIPPETS))
def test_compose_config(snippet: Snippet, measure: dict[str, Any]) -> None:
    compose_cli()
    env_file, env = env_file_of(snippet)
    if snippet.kind == "env":
        if not (snippet.settings.get("compose") or {}).get("files"):
            fail(f"{snippet.where()}: an env snippet needs `compose.files` naming the compose files it feeds")
        env_file, env = snippet.path, snippet.file  # the env snippet is what is being checked
    if env is not None and not env.is_file():
        fail(f"{snippet.where()}: env_file {env_file} does not exist")
    combos = combinations(snippet)
    found: dict[str, list[str]] = {}
    for files in combos:
        res = config(files, "--quiet", env_file=env)
        label = " + ".join(f.name for f in files)
        if problems(res):
            found[label] = problems(res) + res.stderr.strip().splitlines()[-5:]
    measure["combinations"] = [[f.name for f in c] for c in combos]

    wanted = expected_failure(snippet, "compose_error")
    if wanted:
        if not found:
            fail(
                f"{snippet.path}: the text says this compose file fails ({snippet.claim}), "
                "but `docker compose config` accepted it with no warning"
            )
        text = "\n".join(line for lines in found.values() for line in lines)
        measure["compose_errors"] = text[-800:]
        if str(wanted) not in text:
            fail(f"{snippet.path}: expected `{wanted}` in the compose output, got:\n{text}")
        return
    if found:
        fail(
            f"{snippet.path}: `docker compose config` is not clean"
            f"{' (env file ' + str(env_file) + ')' if env_file else ''}:\n"
            + "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in found.items())
        )

    declared = (snippet.settings.get("compose") or {}).get("profiles") or {}
    for name, services in declared.items():
        if str(name).startswith("__"):
            continue  # the manifest loader's line bookkeeping
        res = config(combos[0], "--services", env_file=env, profiles=(str(name),))
        if problems(res):
            fail(f"{snippet.path}: `--profile {name} config --services` failed:\n{res.stderr}")
        got = sorted(res.stdout.split())
        if got != sorted(services):
            fail(f"{snippet.path}: profile {name!r} gives services {got}, the manifest declares {sorted(services)}")
    measure["profiles"] = sorted(k for k in declared if not str(k).startswith("__"))


# ---- the check catches broken compose files --------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "compose.yaml"
    f.write_text(text, encoding="utf-8")
    return f


def test_compose_config_rejects_an_unknown_key(tmp_path: Path) -> None:
    compose_cli()
    f = _write(tmp_path, "services:\n  app:\n    image: myapp:1.0\n    healthcheck_test: [CMD, /server]\n")
    res = config([f], "--quiet")
    assert res.returncode != 0, "an unknown key was accepted"
    assert "healthcheck_test" in res.stderr, res.stderr


def test_compose_config_flags_an_unset_variable(tmp_path: Path) -> None:
    compose_cli()
    var = "SNIPCHECK_UNSET_" + re.sub(r"\W", "_", dk.RUN_ID.upper())
    f = _write(tmp_path, f"services:\n  app:\n    image: myapp:${{{var}}}\n")
    res = config([f], "--quiet")
    assert res.returncode == 0, "compose exits 0 on an unset variable; only the warning tells"
    assert problems(res) and var in res.stderr, res.stderr
    env = tmp_path / "test.env"
    env.write_text(f"{var}=1.0\n", encoding="utf-8")
    assert not problems(config([f], "--quiet", env_file=env)), "the env file should satisfy it"


def test_compose_profiles_are_listed(tmp_path: Path) -> None:
    compose_cli()
    f = _write(
        tmp_path, "services:\n  app:\n    image: myapp:1.0\n  debug:\n    image: busybox:1.36\n    profiles: [debug]\n"
    )
    assert config([f], "--services").stdout.split() == ["app"]
    assert sorted(config([f], "--services", profiles=("debug",)).stdout.split()) == ["app", "debug"]


# ---- claims of the Compose page about volume syntax (docs/compose.md, «Типы volumes») ------------


def test_tmpfs_short_syntax_is_a_named_volume_and_tmpfs_key_is_a_mount(tmp_path: Path) -> None:
    compose_cli()
    short = _write(tmp_path, 'services:\n  app:\n    image: myapp:1.0\n    volumes: ["tmpfs:/cache"]\n')
    res = config([short], "--quiet")
    assert res.returncode != 0 and "undefined volume tmpfs" in res.stderr, (
        "`tmpfs:/path` in volumes: should be read as a named volume called tmpfs: " + res.stderr
    )
    key = _write(tmp_path, "services:\n  app:\n    image: myapp:1.0\n    tmpfs: [/cache]\n")
    res = config([key], "--format", "json")
    assert res.returncode == 0, res.stderr
    assert '"tmpfs"' in res.stdout and "/cache" in res.stdout, res.stdout
    long = _write(
        tmp_path, "services:\n  app:\n    image: myapp:1.0\n    volumes:\n      - {type: tmpfs, target: /cache}\n"
    )
    res = config([long], "--format", "json")
    assert res.returncode == 0 and '"type": "tmpfs"' in res.stdout, res.stdout + res.stderr


def test_external_volume_with_a_driver_is_rejected(tmp_path: Path) -> None:
    compose_cli()
    f = _write(
        tmp_path,
        'services:\n  app:\n    image: myapp:1.0\n    volumes: ["data:/data"]\n'
        "volumes:\n  data:\n    external: true\n    driver: local\n",
    )
    res = config([f], "--quiet")
    assert res.returncode != 0 and 'conflicting parameters "external" and "driver"' in res.stderr, res.stderr
