"""The inventory rules on the real site, and proof that each rule catches a broken tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.model.paths import DOCS, SNIPPETS
from snipcheck.rules import inventory

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
    return (
        problems
        + inventory.check_declarations(snippets, root=docs.parent)
        + inventory.check_language_coverage(docs, snippets, includes)
    )


def test_good_tree_has_no_problems(tree: tuple[Path, Path]) -> None:
    assert _all(*tree) == []


def _page(text: str, name: str = "index.md"):
    return lambda docs, snippets: (docs / name).write_text(text)


def _manifest(text: str):
    return lambda docs, snippets: (snippets / "manifest.yaml").write_text(text)


# (rule, how the tree is broken, a problem that must be reported)
BROKEN = [
    (
        "code typed into page",
        _page('# T\n\n```go\n--8<-- "app/main.go:main"\nfmt.Println("hi")\n```\n'),
        "index.md:5: code typed into the page",
    ),
    (
        "include outside fence",
        _page(PAGE + '\n--8<-- "app/main.go"\n'),
        "index.md:7: snippet include outside a code fence",
    ),
    (
        "missing file",
        _page(PAGE + '\n```go\n--8<-- "app/nope.go"\n```\n'),
        "index.md:8: include of missing file snippets/app/nope.go",
    ),
    (
        "missing section",
        _page(PAGE.replace(":main", ":handler"), "index.en.md"),
        "index.en.md:4: section 'handler' not found in snippets/app/main.go",
    ),
    ("unclosed fence", _page(PAGE + "\n```go\n"), "index.md:7: code fence is never closed"),
    (
        "undeclared file",
        lambda docs, snippets: (snippets / "app" / "extra.go").write_text("package main\n"),
        "snippets/app/extra.go: not declared",
    ),
    (
        "declared file missing",
        _manifest(GOOD_MANIFEST + "  app/gone.go:\n    kind: go\n    checks: [gofmt]\n"),
        "manifest.yaml:5: declares snippets/app/gone.go, which does not exist",
    ),
    (
        "missing in one language",
        _page("# T\n\nNo code here.\n", "index.en.md"),
        "snippets/app/main.go: no en page includes it",
    ),
    ("snippet without check", _manifest("files:\n  app/main.go:\n    kind: go\n"), "has no check that exercises it"),
    (
        "illustrative needs reason",
        _manifest("files:\n  app/main.go:\n    kind: go\n    expect: illustrative\n"),
        "illustrative needs `reason:`",
    ),
    ("unknown check name", _manifest(GOOD_MANIFEST.replace("gofmt", "gofmtt")), "unknown check(s) ['gofmtt']"),
    (
        "check without test",
        lambda docs, snippets: (docs.parent / "tests" / "static" / "test_go.py").write_text("# not implemented\n"),
        "check `gofmt` of snippets/app/main.go has no test",
    ),
    # typed settings: the line of the offending key, and what to do
    (
        "misspelt setting",
        _manifest(GOOD_MANIFEST.replace("gofmt]", "hadolint]") + "    hadolint_rule: [DL3007]\n"),
        "manifest.yaml:5 (app/main.go): unknown setting `hadolint_rule` (no check reads it",
    ),
    (
        "setting of an undeclared check",
        _manifest(GOOD_MANIFEST + "    build: {context: app}\n"),
        "manifest.yaml:5 (app/main.go): unknown setting `build` (it is read by image-antipattern, image-build",
    ),
    (
        "wrong type",
        _manifest(GOOD_MANIFEST.replace("[gofmt]", "[image-run]") + "    run:\n      port: http\n"),
        "manifest.yaml:6 (app/main.go): `run.port`: expected an integer, got str 'http'",
    ),
    (
        "unknown nested key",
        _manifest(
            GOOD_MANIFEST.replace("[gofmt]", "[image-run]") + "    run:\n      port: 8080\n      graceful: true\n"
        ),
        "manifest.yaml:7 (app/main.go): `run.graceful`: unknown key",
    ),
    (
        "unknown scenario",
        _manifest(
            GOOD_MANIFEST.replace("[gofmt]", "[image-antipattern]") + "    scenario: [runs-as-root, runs-as-rooot]\n"
        ),
        "manifest.yaml:5 (app/main.go): `scenario.1`: 'runs-as-rooot' is not one of",
    ),
]


@pytest.mark.parametrize(("rule", "breaks", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_rule_catches_a_broken_tree(tree: tuple[Path, Path], rule: str, breaks, expected: str) -> None:
    docs, snippets = tree
    breaks(docs, snippets)
    problems = _all(docs, snippets)
    assert any(expected in p for p in problems), f"{rule}: expected {expected!r} among:\n" + "\n".join(problems)


def test_every_implementing_test_module_is_listed() -> None:
    """checks.py lists every test module that marks a test with a check, and each listed one does."""
    import re

    from snipcheck.model.checks import CHECKS
    from snipcheck.model.paths import ROOT, TESTS

    marked: dict[str, set[str]] = {}
    for f in TESTS.rglob("test_*.py"):
        if f.resolve() == Path(__file__).resolve():
            continue  # this module writes check markers into its fixture trees
        for name in re.findall(r'mark\.check\("([a-z-]+)"', f.read_text(encoding="utf-8")):
            marked.setdefault(name, set()).add(f.relative_to(ROOT).as_posix())
    problems = [
        f"{name}: marked in {sorted(files - set(CHECKS[name].tests))} but checks.py lists {CHECKS[name].tests}"
        for name, files in marked.items()
        if name in CHECKS and files - set(CHECKS[name].tests)
    ]
    problems += [f"{name}: marked in tests but not a check in checks.py" for name in marked if name not in CHECKS]
    problems += [p for name in CHECKS for p in inventory.check_implementations(name)]
    _fail_with(problems)


def test_every_check_is_one_complete_declaration() -> None:
    """Adding a check touches its declaration in checks.py, its test module and, optionally, one phrase
    function: the declaration names the phrase and the figures, and this test ties them together."""
    from snipcheck.model.checks import CHECKS
    from snipcheck.model.figures import DERIVED, DERIVED_FROM
    from snipcheck.site.phrases import BUILT_IN, PHRASES

    names = set(PHRASES) | set(BUILT_IN)
    problems = [p for name, c in CHECKS.items() for p in inventory.check_declaration(name, c, names, DERIVED_FROM)]
    unused = set(PHRASES) - {c.phrase for c in CHECKS.values()}
    problems += [f"snipcheck/phrases.py: phrase {p!r} is named by no check — remove it" for p in sorted(unused)]
    assert set(DERIVED) == set(DERIVED_FROM), "figures.DERIVED and DERIVED_FROM name different figures"
    _fail_with(problems)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"what": {"en": "x", "ru": ""}}, "no description in ru"),
        ({"phrase": "no-such-phrase"}, "phrase 'no-such-phrase' names no phrase function"),
        ({"figures": {"never_recorded_seconds": "s"}}, "no test of it records 'never_recorded_seconds'"),
    ],
    ids=["no-russian", "unknown-phrase", "unrecorded-figure"],
)
def test_an_incomplete_check_declaration_is_named(change: dict, expected: str) -> None:
    import dataclasses

    from snipcheck.model.checks import CHECKS
    from snipcheck.model.figures import DERIVED_FROM
    from snipcheck.site.phrases import BUILT_IN, PHRASES

    broken = dataclasses.replace(CHECKS["image-run"], **change)
    problems = inventory.check_declaration("image-run", broken, set(PHRASES) | set(BUILT_IN), DERIVED_FROM)
    assert any(expected in p for p in problems), problems
