"""The English pages show the same chapter as the Russian originals, and say which original they translate.

Rules (snipcheck.i18n.parity) on the real site, proof that each rule catches a deliberately broken page pair,
the translation-stamp tool, and — on a built site (tier `static`, it runs mkdocs) — that English pages
are built from their own .en.md and English search finds English words.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from snipcheck.i18n import comments, parity
from snipcheck.model.paths import DOCS, ROOT, SCRIPTS


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# ---- the real site --------------------------------------------------------------------------

REAL_SITE_RULES = {
    "every page has its translation": lambda: parity.check_missing(DOCS),
    "same snippet includes in the same order": lambda: parity.check_includes(DOCS),
    "same explicit heading ids": lambda: parity.check_heading_ids(DOCS),
    "same tables, admonitions, code blocks and diagrams": lambda: parity.check_block_counts(DOCS),
    "translations are current": lambda: parity.check_stamps(DOCS),
    "the same paragraphs with the same code, links and numbers": lambda: parity.check_paragraphs(DOCS),
    "the build never falls back to the Russian page": lambda: parity.check_no_fallback(ROOT / "mkdocs.yml"),
}


@pytest.mark.inventory
@pytest.mark.timeout(30)
@pytest.mark.parametrize("rule", REAL_SITE_RULES, ids=list(REAL_SITE_RULES))
def test_real_site(rule: str) -> None:
    _fail_with(REAL_SITE_RULES[rule]())


# ---- each rule catches a deliberately broken pair -------------------------------------------

BLOCKS = """```go
--8<-- "app/main.go:main"
```

```dockerfile
--8<-- "app/Dockerfile"
```

```mermaid
graph LR
  A --> B
```
"""

RU = """# Заголовок

Вступление про контейнеры.

## Раздел { #section }

| Колонка | Значение |
|---------|----------|
| a       | 1        |

!!! note "Заметка"
    Текст заметки.

"""

RU += BLOCKS

EN = """# Heading

An introduction to containers.

## Section { #section }

| Column | Value |
|--------|-------|
| a      | 1     |

!!! note "Note"
    The note's text.

"""
EN += BLOCKS

PAIR = "docs/index.md ↔ docs/index.en.md"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "index.md").write_text(RU, encoding="utf-8")
    (d / "index.en.md").write_text(EN, encoding="utf-8")
    parity.stamp(d / "index.en.md")
    return d


def _write_en(docs: Path, text: str) -> None:
    """Replace the English body, keeping its (current) stamp."""
    en = docs / "index.en.md"
    en.write_text(parity.with_stamp(text, parity.source_hash(docs / "index.md")), encoding="utf-8")


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_good_pair_has_no_problems(docs: Path) -> None:
    assert parity.check_all(docs) == []


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_a_dropped_english_paragraph(docs: Path) -> None:
    assert parity.check_paragraphs(docs) == []
    _write_en(docs, EN.replace("An introduction to containers.\n\n", ""))
    problems = parity.check_paragraphs(docs)
    assert problems[-1] == (
        f"{PAIR}: 5 paragraphs in Russian, 4 in English — a paragraph is missing or extra "
        "(the first difference above, or at the end of the shorter page)"
    ), problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_a_number_changed_in_one_language(docs: Path) -> None:
    _write_en(docs, EN.replace("| a      | 1     |", "| a      | 2     |"))
    problems = parity.check_paragraphs(docs)
    assert len(problems) == 1 and "numbers: ru ['1'] / en ['2']" in problems[0], problems
    assert "paragraph 4 (ru line 7, en line 11)" in problems[0], problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_include_order_swapped(docs: Path) -> None:
    go = '```go\n--8<-- "app/main.go:main"\n```'
    dockerfile = '```dockerfile\n--8<-- "app/Dockerfile"\n```'
    _write_en(docs, EN.replace(go, "@@").replace(dockerfile, go).replace("@@", dockerfile))
    problems = parity.check_includes(docs)
    assert len(problems) == 1 and problems[0].startswith(f"{PAIR}: snippet includes differ (order differs"), problems
    assert "app/Dockerfile: #2 in ru, #1 in en (moved)" in problems[0], problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_include_of_another_section(docs: Path) -> None:
    _write_en(docs, EN.replace("app/main.go:main", "app/main.go:handler"))
    problems = parity.check_includes(docs)
    assert len(problems) == 1 and "(different includes; ru 2, en 2)" in problems[0], problems
    assert "app/main.go:main: #1 in ru, missing in en" in problems[0], problems
    assert "app/main.go:handler: #1 in en, not in ru" in problems[0], problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_missing_heading_id(docs: Path) -> None:
    _write_en(docs, EN.replace("## Section { #section }", "## Section"))
    assert parity.check_heading_ids(docs) == [
        f"{PAIR}: explicit heading ids differ — only in ru: #section (line 5) "
        f"(give the translated heading the same `{{ #id }}`)"
    ]


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_extra_table(docs: Path) -> None:
    _write_en(docs, EN + "\n| Extra | Table |\n|-------|-------|\n| x | y |\n")
    assert parity.check_block_counts(docs) == [f"{PAIR}: tables: ru 1, en 2 — translate every block of the original"]


@pytest.mark.inventory
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("extra", "kind"),
    [
        ('\n??? tip "More"\n    Hidden text.\n', "admonitions: ru 1, en 2"),
        ("\n```mermaid\ngraph TD\n  X --> Y\n```\n", "mermaid diagrams: ru 1, en 2"),
        ('\n```go\n--8<-- "app/main.go:main"\n```\n', "code blocks: ru 2, en 3"),
        ('\n=== "Go"\n\n    Text.\n', "content tabs: ru 0, en 1"),
    ],
)
def test_rule_extra_block(docs: Path, extra: str, kind: str) -> None:
    _write_en(docs, EN + extra)
    problems = parity.check_block_counts(docs)
    assert len(problems) == 1 and problems[0].startswith(f"{PAIR}: {kind}"), problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_stale_translation(docs: Path) -> None:
    (docs / "index.md").write_text(RU + "\nНовый абзац в оригинале.\n", encoding="utf-8")
    problems = parity.check_stamps(docs)
    assert len(problems) == 1, problems
    assert problems[0].startswith("docs/index.en.md was translated from an older docs/index.md")
    assert problems[0].endswith(
        "update the translation, then run `PYTHONPATH=scripts python3 -m snipcheck stamp docs/index.en.md`"
    )


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_unstamped_translation(docs: Path) -> None:
    (docs / "index.en.md").write_text(EN, encoding="utf-8")
    problems = parity.check_stamps(docs)
    assert len(problems) == 1 and problems[0].startswith("docs/index.en.md has no `source_sha256:` front matter"), (
        problems
    )


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_missing_english_page(docs: Path) -> None:
    (docs / "examples").mkdir()
    (docs / "examples" / "extra.md").write_text("# Пример\n", encoding="utf-8")
    assert parity.check_missing(docs) == [
        "docs/examples/extra.md ↔ docs/examples/extra.en.md: the English page is missing — translate "
        "docs/examples/extra.md into docs/examples/extra.en.md (with fallback_to_default: false the build has "
        "no page for it)"
    ]


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_english_page_without_original(docs: Path) -> None:
    (docs / "orphan.en.md").write_text("# Orphan\n", encoding="utf-8")
    problems = parity.check_missing(docs)
    assert len(problems) == 1 and problems[0].startswith(
        "docs/orphan.md ↔ docs/orphan.en.md: the Russian original is missing"
    ), problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("setting", "found"),
    [
        ("      fallback_to_default: true\n", "is true"),
        ("", "is not set (the plugin's default is true)"),
    ],
)
def test_rule_fallback_enabled(tmp_path: Path, setting: str, found: str) -> None:
    yml = tmp_path / "mkdocs.yml"
    yml.write_text(f"plugins:\n  - i18n:\n      docs_structure: suffix\n{setting}", encoding="utf-8")
    problems = parity.check_no_fallback(yml)
    assert len(problems) == 1 and f"`fallback_to_default` {found}" in problems[0], problems


def _fake_site(tmp_path: Path, h1: str, body: str) -> Path:
    page = tmp_path / "site" / "en" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        f'<!doctype html><html lang="en"><body><article class="md-content__inner">'
        f'<h1 id="x">{h1}<a class="headerlink" href="#x">¶</a></h1><p>{body}</p>'
        f"</article></body></html>",
        encoding="utf-8",
    )
    return page.parents[1]


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_rule_built_page_is_a_fallback_copy(docs: Path, tmp_path: Path) -> None:
    assert parity.check_built_english(_fake_site(tmp_path / "good", "Heading", "An introduction."), docs) == []
    site = _fake_site(tmp_path / "bad", "Заголовок", "Вступление про контейнеры.")
    problems = parity.check_built_english(site, docs)
    assert any(p.startswith(f"{PAIR}: built en/index.html shows the Russian H1 'Заголовок'") for p in problems)
    assert any("Cyrillic" in p for p in problems), problems


# ---- the stamp tool -------------------------------------------------------------------------


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    # The system interpreter, not the venv: the verb must need nothing beyond the standard library.
    python = "/usr/bin/python3" if Path("/usr/bin/python3").is_file() else sys.executable
    return subprocess.run(
        [python, "-m", "snipcheck", "stamp", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=SCRIPTS,
        env={**os.environ, "PYTHONPATH": ""},
    )


@pytest.mark.inventory
@pytest.mark.timeout(60)
def test_stamp_tool_records_checks_and_is_idempotent(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "examples").mkdir(parents=True)
    for where in (docs, docs / "examples"):
        (where / "page.md").write_text(RU, encoding="utf-8")
        (where / "page.en.md").write_text("---\ntitle: Kept\n---\n" + EN, encoding="utf-8")

    first = _tool("--check", "--docs", str(docs))
    assert first.returncode == 1 and first.stdout.count("STALE") == 2, first.stdout + first.stderr

    stamped = _tool("--docs", str(docs))
    assert stamped.returncode == 0 and stamped.stdout.count("stamped ") == 2, stamped.stdout + stamped.stderr
    en = (docs / "page.en.md").read_text(encoding="utf-8")
    digest = parity.source_hash(docs / "page.md")
    assert en == f"---\nsource_sha256: {digest}\ntitle: Kept\n---\n{EN}"  # only the front matter changed

    again = _tool("--docs", str(docs))
    assert again.returncode == 0 and "already current" in again.stdout and "stamped " not in again.stdout
    assert (docs / "page.en.md").read_text(encoding="utf-8") == en
    assert _tool("--check", "--docs", str(docs)).returncode == 0

    # a Russian page's own front matter is not part of its hash
    (docs / "page.md").write_text("---\nhide: [toc]\n---\n" + RU, encoding="utf-8")
    assert _tool("--check", "--docs", str(docs)).returncode == 0

    (docs / "examples" / "page.md").write_text(RU.replace("Вступление", "Новое вступление"), encoding="utf-8")
    stale = _tool("--check", "--docs", str(docs))
    assert (
        stale.returncode == 1
        and "STALE   docs/examples/page.en.md was translated from an older docs/examples/page.md" in stale.stdout
    ), stale.stdout

    # naming one page (by its Russian original) stamps only that page
    one = _tool("--docs", str(docs), str(docs / "examples" / "page.md"))
    assert one.returncode == 0 and one.stdout.startswith("stamped docs/examples/page.en.md"), one.stdout
    assert _tool("--check", "--docs", str(docs)).returncode == 0

    # an untranslated Russian page fails --check over all pages
    (docs / "new.md").write_text(RU, encoding="utf-8")
    missing = _tool("--check", "--docs", str(docs))
    assert (
        missing.returncode == 1 and "MISSING docs/new.en.md: docs/new.md has no English translation" in missing.stdout
    ), missing.stdout


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_stamp_tool_adds_front_matter_without_touching_the_body(docs: Path) -> None:
    en = docs / "index.en.md"
    text = en.read_text(encoding="utf-8")
    assert text == f"---\nsource_sha256: {parity.source_hash(docs / 'index.md')}\n---\n\n{EN}"
    assert parity.split_front_matter(text)[1] == "\n" + EN
    assert parity.stamp(en) is False


# ---- the built site (runs mkdocs) ------------------------------------------------------------


@pytest.fixture(scope="module")
def site(built_site: Path) -> Path:
    return built_site  # tests/conftest.py: `mkdocs build --strict`, once per session


@pytest.mark.static
@pytest.mark.timeout(240)
def test_english_pages_are_built_from_their_own_translation(site: Path) -> None:
    _fail_with(parity.check_built_english(site, DOCS))


@pytest.mark.static
@pytest.mark.timeout(240)
def test_each_language_searches_its_own_index(site: Path) -> None:
    en_docs, ru_docs = parity.search_docs(site, "en"), parity.search_docs(site, "ru")
    en = {w: parity.search_hits(en_docs, w) for w in ("graceful", "distroless")}
    ru = parity.search_hits(ru_docs, "Контейнеризация")
    assert all(en.values()), f"en/search index: no document contains {[w for w, h in en.items() if not h]}"
    assert ru, "search index: no Russian document contains 'Контейнеризация'"
    leaked = parity.search_hits(en_docs, "Контейнеризация")
    assert not leaked, f"en/search index: English documents contain the Russian title word: {leaked[:5]}"


@pytest.mark.static
@pytest.mark.timeout(240)
def test_built_code_blocks_show_comments_in_the_page_language(site: Path) -> None:
    """Russian pages: no English comment a catalog translates; English pages: no Cyrillic in code
    (snipcheck.i18n.comments, rendered by scripts/hooks/comments_ru.py; rule tested in test_comments.py)."""
    _fail_with(comments.check_built_site(site))
    ru = (site / "docker" / "index.html").read_text(encoding="utf-8")
    assert "Копируем бинарник из builder stage" in ru, "the Russian Docker page shows no Russian comment"
