"""--changed selection (snipcheck.run.changes) on the real snippets: what a diff selects, and why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from snipcheck.model import manifest
from snipcheck.model.paths import ROOT, SNIPPETS
from snipcheck.run import changes

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

SNIPPETS_NOW = manifest.load()


def select(*files: str) -> changes.Selection:
    return changes.select("BASE", list(files), SNIPPETS_NOW)


def test_page_only_change_selects_no_snippet_but_the_site_tier() -> None:
    """A page is shown by the site tier's browser tour: a pull request that changes one runs that tier
    (review M9: before, a docs or mkdocs change never ran the browser in a PR)."""
    sel = select("docs/docker.md", "docs/docker.en.md", "translations/comments.ru/docker.yaml")
    assert sel.everything is None and sel.snippets == {}
    assert set(sel.modules) == {"tests/site", changes.TOUR_MODULE}, sel.modules
    assert sel.tour_pages() == [], "a translation catalog feeds every page: the tour visits them all"
    assert select("README.md").modules == {}


def test_guides_and_maintainers_notes_run_only_the_always_run_tiers() -> None:
    """The notes beside the code (scripts/snipcheck/**/README.md, tests/README.md, dev/) are read, not run:
    editing one must not run everything the way a change to scripts/snipcheck/ does."""
    for note in ("CONTRIBUTING.md", "dev/measurements.md", "scripts/snipcheck/README.md", "tests/README.md"):
        assert changes.classify(note) == "always", note
        sel = select(note)
        assert sel.everything is None and sel.modules == {} and sel.snippets == {}, (note, sel.as_dict())
    assert changes.classify("scripts/snipcheck/model/manifest.py") == "everything"
    assert changes.classify("snippets/docker/README.md") == "snippet", "a Markdown file in a build context"


def test_a_changed_page_narrows_the_tour_to_it() -> None:
    sel = select("docs/compose.en.md")
    assert sel.everything is None and sel.snippets == {}
    assert set(sel.modules) == {changes.TOUR_MODULE}, sel.modules
    assert sel.tour_pages() == ["docs/compose.en.md"]
    assert sel.as_dict()["tour_pages"] == ["docs/compose.en.md"]


@pytest.mark.parametrize(
    "also",
    ["docs/stylesheets/extra.css", "tests/site/test_browser.py", "tests/site/browser.py", "mkdocs.yml"],
)
def test_anything_else_for_the_site_tours_every_page(also: str) -> None:
    assert select("docs/compose.en.md", also).tour_pages() == [], also


@pytest.mark.parametrize(
    ("changed", "selected"),
    [
        ("scripts/kube/go.mod", {"tests/cluster"}),
        ("scripts/hooks/snipcheck_proof.py", {"tests/site"}),
        ("mkdocs.yml", {"tests/site"}),
        ("scripts/fetch-mermaid.sh", {"tests/site"}),
    ],
)
def test_what_one_tier_reads_selects_that_tier(changed: str, selected: set[str]) -> None:
    assert set(select(changed).modules) == selected


def test_every_tracked_file_falls_under_a_rule() -> None:
    """A new kind of file (a new script directory, a root file) must be given a rule in
    snipcheck.run.changes, or a pull request that changes it would run only the always-run tiers."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    unclassified = [f for f in tracked.split() if changes.classify(f) is None]
    assert unclassified == [], f"no --changed rule in snipcheck.run.changes for: {unclassified}"
    assert changes.classify("scripts/new-tool.sh") is None, "the check cannot see an unclassified file"


def test_machinery_change_selects_everything() -> None:
    for f in (
        "scripts/snipcheck/harness/docker/cli.py",
        "scripts/imagekit/golang/Dockerfile",
        "tests/conftest.py",
        "requirements.txt",
        "scripts/lib/apt.sh",
        ".github/workflows/ci.yml",
    ):
        assert select(f).everything, f


def test_a_dockerfile_selects_itself_and_what_names_it() -> None:
    sel = select("snippets/docker/multi-stage/Dockerfile")
    assert "it changed" in sel.snippets["docker/multi-stage/Dockerfile"]
    # docker/bad/Dockerfile compares its size with the multi-stage image
    assert any("compare_with" in why for why in sel.snippets["docker/bad/Dockerfile"])
    assert "docker/scratch/Dockerfile" not in sel.snippets


def test_service_source_selects_every_image_built_from_it() -> None:
    sel = select("snippets/myapp/internal/handler/handler.go")
    built_from_myapp = [
        p
        for p, s in SNIPPETS_NOW.items()
        if s.kind == "dockerfile" and (s.settings.get("build") or {}).get("context") == "myapp"
    ]
    assert built_from_myapp and all(p in sel.snippets for p in built_from_myapp)
    assert "compose/app/compose.yaml" in sel.snippets  # it builds ../../myapp


def test_dockerignored_file_does_not_select_the_images() -> None:
    sel = select("snippets/myapp/k8s/deployment.yaml")  # myapp/.dockerignore lists k8s/
    assert "docker/multi-stage/Dockerfile" not in sel.snippets
    assert "myapp/k8s/kustomization.yaml" in sel.snippets  # it lists deployment.yaml


def test_manifest_change_selects_its_entries() -> None:
    sel = select("snippets/kubernetes/manifest.yaml")
    assert {p for p in SNIPPETS_NOW if p.startswith("kubernetes/")} <= set(sel.snippets)


def test_test_modules_and_tier_helpers() -> None:
    sel = select("tests/images/test_dockerfiles.py", "tests/compose/compose_stack.py")
    assert sel.modules == {
        "tests/images/test_dockerfiles.py": "the test module changed",
        "tests/compose": "its helper tests/compose/compose_stack.py changed",
    }


def test_dockerignore_rules_as_docker_reads_them(tmp_path) -> None:
    (tmp_path / ".dockerignore").write_text("*.md\n!README.md\nk8s/\n**/*_test.go\n")
    for rel, ignored in (
        ("notes.md", True),
        ("README.md", False),
        ("k8s/a.yaml", True),
        ("docs/x.md", False),
        ("pkg/a_test.go", True),
        ("main.go", False),
    ):
        assert changes.dockerignored(tmp_path, tmp_path / rel) is ignored, rel
    assert SNIPPETS.is_dir()


def test_reports_of_parallel_jobs_merge(tmp_path) -> None:
    import json

    from snipcheck.run import report

    def job(name: str, tier: str, commit: str = "abc", test: str = "", seconds: float = 1.0) -> Path:
        p = tmp_path / f"{name}.json"
        record = {"check": tier, "result": "passed", "test": test or f"tests/{tier}/test_{name}.py::t"}
        p.write_text(
            json.dumps(
                {
                    "commit": commit,
                    "tiers": {tier: {"seconds": seconds, "passed": 1}},
                    "snippets": {"a/Dockerfile": [record]},
                    "unrecorded_checks": [],
                }
            )
        )
        return p

    merged = report.merge([job("s", "static"), job("i", "images")], tmp_path / "out.json")
    assert set(merged["tiers"]) == {"static", "images"} and len(merged["snippets"]["a/Dockerfile"]) == 2
    with pytest.raises(ValueError, match="different commits"):
        report.merge([job("s", "static"), job("x", "images", commit="def")], tmp_path / "bad.json")
    # a tier in two shards (the sudo shard runs the root-marked tests of the others): counts add up, the
    # wall time is the longest shard's; the same test's record in two shards is an overlap
    merged = report.merge([job("s", "static", seconds=40.0), job("t", "static", seconds=2.0)], tmp_path / "o2.json")
    assert merged["tiers"]["static"] == {"seconds": 40.0, "passed": 2}, merged["tiers"]
    with pytest.raises(ValueError, match="shards must not overlap"):
        report.merge([job("s", "static", test="x::t"), job("t", "static", test="x::t")], tmp_path / "bad.json")
