"""The project lints itself like its snippets: ruff on the Python, shellcheck on every shell script of
the project (scripts/, the image kit, .ci/run), hadolint on the kit's own Dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from statictools import FAILING, SEVERITY, fail, hadolint, hadolint_text, run, shellcheck, shellcheck_text, tool

from snipcheck.model.paths import ROOT, SCRIPTS, TESTS, project_shell_scripts

pytestmark = [pytest.mark.static, pytest.mark.timeout(120)]

PYTHON_DIRS = [SCRIPTS, TESTS]
SHELL_SCRIPTS = project_shell_scripts()
KIT_DOCKERFILES = sorted((SCRIPTS / "imagekit").rglob("Dockerfile*"))


def _rel(paths: list[Path]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


def ruff(*args: str, cwd: Path = ROOT):
    return run([tool("ruff"), *args], cwd=cwd, timeout=120)


def test_ruff_check() -> None:
    res = ruff("check", "--no-cache", "--output-format", "concise", *map(str, PYTHON_DIRS))
    if res.returncode != 0:
        fail(f"ruff check found problems (fix them, or `ruff check --fix`):\n{res.stdout[-6000:]}{res.stderr[-2000:]}")


def test_ruff_format() -> None:
    res = ruff("format", "--no-cache", "--check", *map(str, PYTHON_DIRS))
    if res.returncode != 0:
        fail(f"ruff format would change files (run `ruff format scripts tests`):\n{res.stdout[-4000:]}")


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=_rel(SHELL_SCRIPTS))
def test_shellcheck_project_script(script: Path) -> None:
    comments = shellcheck(script)
    if comments:
        fail(
            f"{script.relative_to(ROOT)}:\n{shellcheck_text(comments)}\n"
            f"(severity {SEVERITY}: fix, or disable inline with a reason)"
        )


@pytest.mark.parametrize("dockerfile", KIT_DOCKERFILES, ids=_rel(KIT_DOCKERFILES))
def test_hadolint_kit_dockerfile(dockerfile: Path) -> None:
    bad = [f for f in hadolint(dockerfile) if f["level"] in FAILING]
    if bad:
        fail(
            f"{dockerfile.relative_to(ROOT)}:\n{hadolint_text(bad)}\n"
            "(fix, or `# hadolint ignore=CODE` with the reason above it)"
        )


def test_the_project_linters_catch_problems(tmp_path: Path) -> None:
    """Each of the three fails on a deliberately broken file."""
    (tmp_path / "bad.py").write_text("import os\nx=1\n", encoding="utf-8")
    assert ruff("check", "--no-cache", "--isolated", "--select", "F401", "bad.py", cwd=tmp_path).returncode == 1
    assert ruff("format", "--no-cache", "--check", "bad.py", cwd=tmp_path).returncode == 1
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nrm -rf $1/\n", encoding="utf-8")
    assert any(c["code"] == 2086 for c in shellcheck(script))
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:bookworm-slim\nRUN cd /tmp && echo hi | wc -c\n", encoding="utf-8")
    assert {"DL3003", "DL4006"} <= {f["code"] for f in hadolint(dockerfile)}
