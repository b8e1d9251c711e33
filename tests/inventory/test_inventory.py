"""The inventory rules on the real site, and proof that each rule catches a broken tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck import inventory
from snipcheck.paths import DOCS, SNIPPETS

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# ---- the real site -------------------------------------------------------------------------

def test_pages_hold_only_includes_and_targets_exist() -> None:
    _, problems = inventory.check_pages(DOCS, SNIPPETS)
    _fail_with(problems)


def test_every_snippet_declared_and_exercised() -> None:
    _fail_with(inventory.check_declarations(SNIPPETS))


def test_every_snippet_included_in_both_languages() -> None:
    includes, _ = inventory.check_pages(DOCS, SNIPPETS)
    _fail_with(inventory.check_language_coverage(DOCS, SNIPPETS, includes))


def test_russian_and_english_page_sets_match() -> None:
    _fail_with(inventory.check_page_sets(DOCS))


# ---- each rule catches a deliberately broken tree -------------------------------------------

GOOD_GO = "package main\n\n// --8<-- [start:main]\nfunc main() {}\n\n// --8<-- [end:main]\n"
GOOD_MANIFEST = "files:\n  app/main.go:\n    kind: go\n    checks: [gofmt]\n"
PAGE = '# T\n\n```go\n--8<-- "app/main.go:main"\n```\n'


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    docs, snippets = tmp_path / "docs", tmp_path / "snippets"
    (snippets / "app").mkdir(parents=True)
    docs.mkdir()
    (snippets / "app" / "main.go").write_text(GOOD_GO)
    (snippets / "manifest.yaml").write_text(GOOD_MANIFEST)
    (docs / "index.md").write_text(PAGE)
    (docs / "index.en.md").write_text(PAGE)
    (tmp_path / "tests" / "static").mkdir(parents=True)
    (tmp_path / "tests" / "static" / "test_go.py").write_text('@pytest.mark.check("gofmt")\n')
    return docs, snippets


def _all(docs: Path, snippets: Path) -> list[str]:
    includes, problems = inventory.check_pages(docs, snippets)
    return (problems + inventory.check_declarations(snippets, root=docs.parent)
            + inventory.check_language_coverage(docs, snippets, includes) + inventory.check_page_sets(docs))


def test_good_tree_has_no_problems(tree: tuple[Path, Path]) -> None:
    assert _all(*tree) == []


def test_rule_code_typed_into_page(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs / "index.md").write_text('# T\n\n```go\n--8<-- "app/main.go:main"\nfmt.Println("hi")\n```\n')
    problems = _all(docs, snippets)
    assert any("index.md:5: code typed into the page" in p for p in problems), problems


def test_rule_include_outside_fence(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs / "index.md").write_text(PAGE + '\n--8<-- "app/main.go"\n')
    assert any("index.md:7: snippet include outside a code fence" in p for p in _all(docs, snippets))


def test_rule_missing_file(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs / "index.md").write_text(PAGE + '\n```go\n--8<-- "app/nope.go"\n```\n')
    assert any("index.md:8: include of missing file snippets/app/nope.go" in p for p in _all(docs, snippets))


def test_rule_missing_section(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs / "index.en.md").write_text(PAGE.replace(":main", ":handler"))
    problems = _all(docs, snippets)
    assert any("index.en.md:4: section 'handler' not found in snippets/app/main.go" in p for p in problems)


def test_rule_undeclared_file(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (snippets / "app" / "extra.go").write_text("package main\n")
    assert any("snippets/app/extra.go: not declared" in p for p in _all(docs, snippets))


def test_rule_declared_file_missing(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (snippets / "manifest.yaml").write_text(GOOD_MANIFEST + "  app/gone.go:\n    kind: go\n    checks: [gofmt]\n")
    problems = _all(docs, snippets)
    assert any("manifest.yaml:5: declares snippets/app/gone.go, which does not exist" in p for p in problems)


def test_rule_snippet_missing_in_one_language(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs / "index.en.md").write_text("# T\n\nNo code here.\n")
    assert any("snippets/app/main.go: no en page includes it" in p for p in _all(docs, snippets))


def test_rule_snippet_without_check(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (snippets / "manifest.yaml").write_text("files:\n  app/main.go:\n    kind: go\n")
    assert any("has no check that exercises it" in p for p in _all(docs, snippets))


def test_rule_illustrative_needs_reason(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (snippets / "manifest.yaml").write_text("files:\n  app/main.go:\n    kind: go\n    expect: illustrative\n")
    assert any("illustrative needs `reason:`" in p for p in _all(docs, snippets))


def test_rule_unknown_check_name(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (snippets / "manifest.yaml").write_text(GOOD_MANIFEST.replace("gofmt", "gofmtt"))
    assert any("unknown check(s) ['gofmtt']" in p for p in _all(docs, snippets))


def test_rule_page_sets_differ(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs / "extra.md").write_text("# Extra\n")
    assert any("docs/extra.md: has no English counterpart" in p for p in _all(docs, snippets))


def test_rule_check_without_test(tree: tuple[Path, Path]) -> None:
    docs, snippets = tree
    (docs.parent / "tests" / "static" / "test_go.py").write_text("# gofmt is not implemented here\n")
    problems = _all(docs, snippets)
    assert any("check `gofmt` of snippets/app/main.go has no test" in p for p in problems), problems
