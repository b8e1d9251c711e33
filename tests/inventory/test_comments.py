"""Code comments in the reader's language (snipcheck.i18n.comments, translations/comments.ru/).

On the real tree: every comment a page shows has Russian text, no catalog entry is stale, and the Russian
rendering of every snippet is the same code. On small trees in tmp_path: each of those rules catches a
deliberately broken case, tool-read comments and `#` inside strings or heredocs are never touched, and the
built-site rule catches an English comment on a Russian page and Cyrillic on an English one.
The built site itself is checked in tests/inventory/test_parity.py (tier `static`, it runs mkdocs).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from snipcheck.i18n import catalog as comment_catalog
from snipcheck.i18n import comments
from snipcheck.i18n import syntax as comment_syntax
from snipcheck.model import manifest
from snipcheck.model.paths import DOCS, ROOT, SCRIPTS, SNIPPETS

pytestmark = pytest.mark.inventory


def _fail_with(problems: list[comments.Problem]) -> None:
    if problems:
        pytest.fail("\n".join(map(str, problems)), pytrace=False)


@pytest.fixture(scope="module")
def report() -> comments.Report:
    return comments.check(SNIPPETS, comments.page_includes(DOCS, SNIPPETS))


# ---- the real tree --------------------------------------------------------------------------


def test_every_shown_comment_has_russian_text(report: comments.Report) -> None:
    _fail_with(report.missing)
    assert report.comments > 400, f"only {report.comments} comment lines found: is the comment reader broken?"


def test_no_catalog_entry_is_stale(report: comments.Report) -> None:
    _fail_with(report.stale)


def test_russian_rendering_is_the_same_code(report: comments.Report) -> None:
    _fail_with(report.changed_code)
    # A second, simpler view: same line count, and every line without a comment is byte-identical.
    declared = manifest.load(SNIPPETS)
    for path, russian in report.rendered.items():
        original = (SNIPPETS / path).read_text(encoding="utf-8")
        kind = comment_syntax.syntax_of(path, declared[path].kind)
        with_comment = {c.line for c in comment_syntax.find_comments(original, kind)}
        a, b = original.split("\n"), russian.split("\n")
        assert len(a) == len(b), f"snippets/{path}: the Russian rendering has {len(b)} lines, the file {len(a)}"
        if kind in comment_syntax.WHOLE_LINE_KINDS:
            continue
        for no, (x, y) in enumerate(zip(a, b, strict=True), start=1):
            if no not in with_comment:
                assert x == y, f"snippets/{path}:{no}: a line without a comment changed: {x!r} -> {y!r}"


def test_tool_read_comments_are_identical_in_the_russian_rendering(report: comments.Report) -> None:
    declared = manifest.load(SNIPPETS)
    checked = 0
    for path, russian in report.rendered.items():
        original = (SNIPPETS / path).read_text(encoding="utf-8")
        kind = comment_syntax.syntax_of(path, declared[path].kind)
        a, b = original.split("\n"), russian.split("\n")
        for c in comment_syntax.find_comments(original, kind):
            if c.directive:
                checked += 1
                assert a[c.line - 1] == b[c.line - 1], f"snippets/{path}:{c.line}: tool-read comment changed"
    assert checked > 50, f"only {checked} directives/section markers seen: is the reader broken?"


def test_the_listing_command_reports_nothing_on_the_real_tree() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snipcheck", "comments"], cwd=SCRIPTS, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "comment lines shown on pages need Russian text; 0 problem(s)" in proc.stderr


# ---- the reader: what is a comment and what is not -------------------------------------------


def _entries(mapping: dict[str, str]) -> dict[str, comment_catalog.Entry]:
    return {
        en: comment_catalog.Entry(en, ru, Path("catalog.yaml"), no) for no, (en, ru) in enumerate(mapping.items(), 1)
    }


# Every text below appears once as a real comment and once where it is NOT a comment; the catalog maps
# each to Russian, so anything rendered in Russian outside a real comment is a reader bug.
DOCKERFILE = """\
# syntax=docker/dockerfile:1
# check=error=true
# Build
RUN echo "keep # this" && echo 'and # this'
RUN <<EOF
# inside a heredoc
EOF
# --8<-- [start:run]
# hadolint ignore=DL3008
CMD ["/server"]
# --8<-- [end:run]
"""

SHELL = """\
#!/usr/bin/env bash
# shellcheck disable=SC2086
echo "keep # this" 'and # this' ${#ARGS[@]} a#b  # Say hello
cat <<'EOF'
# inside a heredoc
EOF
"""

YAML = """\
# yaml-language-server: $schema=https://json.schemastore.org/github-workflow.json
url: "http://example.com/#keep"  # The URL
steps:
  - run: |
      # inside a block scalar
      echo hi
  - name: 'it''s # kept'  # A step
"""

GO = """\
//go:build linux

package main // The package

//nolint:errcheck
var s = "http://x // keep" + `raw // keep` // A string
/* A block
   comment */
"""

SQL = """\
-- The schema
SELECT '-- keep' AS x; -- A query
"""

CASES = {
    "dockerfile": (
        DOCKERFILE,
        {
            "Build": "Сборка",
            "syntax=docker/dockerfile:1": "X",
            "check=error=true": "X",
            "this\" && echo 'and # this'": "X",
            "inside a heredoc": "X",
            "--8<-- [start:run]": "X",
            "hadolint ignore=DL3008": "X",
        },
        {3: "# Сборка"},
    ),
    "shell": (
        SHELL,
        {
            "Say hello": "Привет",
            "!/usr/bin/env bash": "X",
            "shellcheck disable=SC2086": "X",
            "this\" 'and # this' ${#ARGS[@]} a#b  # Say hello": "X",
            "inside a heredoc": "X",
            "b  # Say hello": "X",
        },
        {3: "echo \"keep # this\" 'and # this' ${#ARGS[@]} a#b  # Привет"},
    ),
    "yaml": (
        YAML,
        {
            "The URL": "Адрес",
            "A step": "Шаг",
            "inside a block scalar": "X",
            'keep"  # The URL': "X",
            "yaml-language-server: $schema=https://json.schemastore.org/github-workflow.json": "X",
            "kept'  # A step": "X",
        },
        {2: 'url: "http://example.com/#keep"  # Адрес', 7: "  - name: 'it''s # kept'  # Шаг"},
    ),
    "go": (
        GO,
        {
            "The package": "Пакет",
            "A string": "Строка",
            "A block": "Блок",
            "comment": "комментарий",
            "go:build linux": "X",
            "nolint:errcheck": "X",
            'keep" + `raw // keep` // A string': "X",
            "keep` // A string": "X",
        },
        {
            3: "package main // Пакет",
            6: 'var s = "http://x // keep" + `raw // keep` // Строка',
            7: "/* Блок",
            8: "   комментарий */",
        },
    ),
    "sql": (
        SQL,
        {"The schema": "Схема", "A query": "Запрос", "keep' AS x; -- A query": "X"},
        {1: "-- Схема", 2: "SELECT '-- keep' AS x; -- Запрос"},
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_directives_strings_and_heredocs_survive(kind: str) -> None:
    text, mapping, changed = CASES[kind]
    rendered = comment_catalog.render(text, kind, _entries(mapping))
    assert not rendered.missing, [c.text for c in rendered.missing]
    a, b = text.split("\n"), rendered.text.split("\n")
    for no, (x, y) in enumerate(zip(a, b, strict=True), start=1):
        assert y == changed.get(no, x), f"{kind} line {no}: {x!r} rendered as {y!r}"
    assert comments.code_difference(text, rendered.text, kind) is None


def test_reader_finds_a_comment_after_a_string_with_a_hash() -> None:
    found = [c.text for c in comment_syntax.find_comments(SHELL, "shell")]
    assert found == ["!/usr/bin/env bash", "shellcheck disable=SC2086", "Say hello"]
    assert [c.directive for c in comment_syntax.find_comments(SHELL, "shell")] == [True, True, False]


def test_text_snippet_lines_are_replaced_whole() -> None:
    text = "Node with 2 CPUs\n$ docker ps\n"
    rendered = comment_catalog.render(text, "text", _entries({"Node with 2 CPUs": "Node с 2 CPU"}))
    assert rendered.text == "Node с 2 CPU\n$ docker ps\n"


# ---- each rule catches a deliberately broken tree ------------------------------------------------

SERVICE_GO = """\
package main

// --8<-- [start:main]
// Wait for the signal
func main() {} // The entry point
// --8<-- [end:main]

// Not shown on any page
"""


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """snippets/app/{manifest.yaml,main.go} and catalogs/app.yaml with a complete Russian catalog."""
    snippets, catalogs = tmp_path / "snippets", tmp_path / "catalogs"
    (snippets / "app").mkdir(parents=True)
    catalogs.mkdir()
    (snippets / "app" / "manifest.yaml").write_text(
        "files:\n  main.go:\n    kind: go\n    expect: illustrative\n    reason: test\n", encoding="utf-8"
    )
    (snippets / "app" / "main.go").write_text(SERVICE_GO, encoding="utf-8")
    (catalogs / "app.yaml").write_text(
        'files:\n  "main.go":\n    "Wait for the signal": "Ждём сигнал"\n    "The entry point": "Точка входа"\n',
        encoding="utf-8",
    )
    return snippets, catalogs


def _check(tree: tuple[Path, Path]) -> comments.Report:
    snippets, catalogs = tree
    return comments.check(snippets, {"app/main.go": {"main"}}, catalogs, manifest.load(snippets))


def test_complete_tree_has_no_problems(tree: tuple[Path, Path]) -> None:
    report = _check(tree)
    assert report.problems == []
    assert "// Ждём сигнал" in report.rendered["app/main.go"]
    assert "// Not shown on any page" in report.rendered["app/main.go"]  # outside the section: not required


def test_edited_comment_names_the_missing_text_and_the_stale_entry(tree: tuple[Path, Path]) -> None:
    snippets, _ = tree
    main = snippets / "app" / "main.go"
    main.write_text(
        main.read_text(encoding="utf-8").replace("Wait for the signal", "Wait for SIGTERM"), encoding="utf-8"
    )
    report = _check(tree)
    assert [str(p) for p in report.missing] == [
        f"snippets/app/main.go:4: comment 'Wait for SIGTERM' has no Russian text — add it under `main.go:` "
        f"in {comments.rel(tree[1] / 'app.yaml')}"
    ]
    assert len(report.stale) == 1
    assert report.stale[0].where.endswith("app.yaml:3")
    assert "'Wait for the signal' matches no comment in snippets/app/main.go" in report.stale[0].message


def test_entry_for_an_undeclared_file_is_stale(tree: tuple[Path, Path]) -> None:
    _, catalogs = tree
    with (catalogs / "app.yaml").open("a", encoding="utf-8") as f:
        f.write('  "gone.go":\n    "Old": "Старый"\n')
    assert [p.message for p in _check(tree).stale] == [
        "snippets/app/gone.go is not a declared snippet — fix the path or remove its entries"
    ]


def test_translation_that_changes_code_is_caught(tree: tuple[Path, Path]) -> None:
    snippets, catalogs = tree
    main = snippets / "app" / "main.go"
    main.write_text(
        main.read_text(encoding="utf-8").replace("// Wait for the signal", "/* Wait for the signal */"),
        encoding="utf-8",
    )
    (catalogs / "app.yaml").write_text(
        'files:\n  "main.go":\n    "Wait for the signal": "Ждём */ var leaked = 1 /* сигнал"\n'
        '    "The entry point": "Точка входа"\n',
        encoding="utf-8",
    )
    report = _check(tree)
    assert len(report.changed_code) == 1, report.problems
    assert "the Russian rendering changes code (line 4" in report.changed_code[0].message


def test_multi_line_translation_is_refused(tree: tuple[Path, Path]) -> None:
    _, catalogs = tree
    (catalogs / "app.yaml").write_text(
        'files:\n  "main.go":\n    "The entry point": "Точка\\nвхода"\n', encoding="utf-8"
    )
    with pytest.raises(comment_catalog.CatalogError, match=r"app\.yaml:3: one comment line per entry"):
        _check(tree)


def test_built_site_rule(tmp_path: Path) -> None:
    catalogs = tmp_path / "catalogs"
    catalogs.mkdir()
    (catalogs / "app.yaml").write_text(
        'files:\n  "main.go":\n    "Wait for the signal": "Ждём сигнал"\n', encoding="utf-8"
    )
    site = tmp_path / "site"
    (site / "en" / "p").mkdir(parents=True)
    (site / "p").mkdir()
    good_ru = '<pre><span></span><code><span class="c1">// Ждём сигнал</span>\nfunc main() {}</code></pre>'
    good_en = '<pre><code><span class="c1">// Wait for the signal</span></code></pre>'
    (site / "p" / "index.html").write_text(good_ru, encoding="utf-8")
    (site / "en" / "p" / "index.html").write_text(good_en, encoding="utf-8")
    assert comments.check_built_site(site, catalogs) == []
    (site / "p" / "index.html").write_text(good_en, encoding="utf-8")
    (site / "en" / "p" / "index.html").write_text(good_ru, encoding="utf-8")
    problems = comments.check_built_site(site, catalogs)
    assert any(
        p.startswith("en/p/index.html: English page shows a Russian code line: '// Ждём сигнал'") for p in problems
    ), problems
    assert any(
        p.startswith("p/index.html: Russian page shows the English comment 'Wait for the signal'") for p in problems
    ), problems


def test_hook_is_registered_in_mkdocs_yml() -> None:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "hooks:\n  - scripts/hooks/comments_ru.py" in text
