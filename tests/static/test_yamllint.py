"""yamllint (strict: warnings fail) with the repository's .yamllint on every YAML file we publish or use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from statictools import fail, ids, run, tool

from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import ROOT, SNIPPETS

pytestmark = [pytest.mark.static, pytest.mark.timeout(60)]

CONFIG = ROOT / ".yamllint"
YAML_KINDS = {"yaml", "compose", "kubernetes", "kustomization", "workflow"}
DECLARED = manifest.by_check("yamllint")


def yamllint(*paths: Path) -> tuple[int, str]:
    res = run([tool("yamllint"), "--strict", "-c", str(CONFIG), "-f", "parsable", *[str(p) for p in paths]], timeout=60)
    if res.returncode not in (0, 1, 2):
        fail(f"yamllint did not run:\n{res.describe()}")
    return res.returncode, res.stdout.strip()


def project_yaml() -> list[Path]:
    """The project's own YAML: site config, CI workflows, linter configs, snippet manifests."""
    files = [ROOT / "mkdocs.yml", ROOT / ".yamllint", ROOT / ".hadolint.yaml"]
    files += sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    files += manifest.manifest_files(SNIPPETS)
    files += sorted((ROOT / "scripts" / "snipcheck").rglob("*.yaml"))  # the harness's data (CoreDNS objects)
    files += sorted((ROOT / "tests").rglob("*.yaml"))  # the tests' data (the node's stand-ins)
    return [f for f in files if f.is_file()]


@pytest.mark.check("yamllint")
@pytest.mark.parametrize("snippet", DECLARED, ids=ids(DECLARED))
def test_yamllint(snippet: Snippet, measure: dict[str, Any]) -> None:
    code, out = yamllint(snippet.file)
    measure["yamllint_problems"] = len(out.splitlines()) if out else 0
    if code != 0:
        fail(f"{snippet.path}: yamllint (strict, .yamllint):\n{out}")


def test_every_yaml_snippet_is_linted() -> None:
    """YAML snippets that do not declare the check are still linted (one run for all of them)."""
    undeclared = sorted(
        (s for s in manifest.load().values() if s.kind in YAML_KINDS and "yamllint" not in s.checks),
        key=lambda s: s.path,
    )
    if not undeclared:
        return
    code, out = yamllint(*[s.file for s in undeclared])
    if code != 0:
        fail(f"YAML snippets without a declared `yamllint` check fail yamllint (declare it and fix them):\n{out}")


@pytest.mark.parametrize("path", project_yaml(), ids=lambda p: str(p.relative_to(ROOT)))
def test_project_yaml(path: Path) -> None:
    code, out = yamllint(path)
    if code != 0:
        fail(f"{path.relative_to(ROOT)}: yamllint (strict, .yamllint):\n{out}")


def test_yamllint_flags_bad_indentation(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  app:\n     image: myapp:1.0\n    ports:\n      - 8080:8080\n", encoding="utf-8")
    code, out = yamllint(bad)
    assert code != 0, "yamllint accepted broken indentation"
    assert "syntax" in out or "indentation" in out, out


def test_yamllint_flags_a_warning_level_problem(tmp_path: Path) -> None:
    """Strict mode: a warning (comment indentation) fails like an error."""
    bad = tmp_path / "pod.yaml"
    bad.write_text(
        "spec:\n  containers:\n    - name: app\n# misplaced comment\n      image: myapp:1.0\n", encoding="utf-8"
    )
    code, out = yamllint(bad)
    assert code != 0 and "comments-indentation" in out, out
