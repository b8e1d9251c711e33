"""Inventory rules: pages hold prose only, every code block is an include, every snippet
file is declared, included in both languages and exercised by a check.

Each rule is a function over (docs_dir, snippets_dir) returning problems as
"file:line: what is wrong — what to do" strings, so tests can run the same rules
on deliberately broken trees in a temporary directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import manifest, pages
from ..model.checks import CHECKS, Check
from ..model.pages import Include, page_lang
from ..model.paths import ROOT

IGNORED_SNIPPET_FILES = {manifest.MANIFEST_NAME}


def scan_page(page: Path) -> tuple[list[Include], list[str]]:
    """Includes on a page, and problems with its fences (code typed in, includes outside fences...)."""
    parsed = pages.parse(page)
    problems = [
        f"{page}:{no}: snippet include outside a code fence — wrap it in a fence with the language, e.g. ```go"
        for no, text in parsed.prose
        if pages.INCLUDE.match(text)
    ]
    includes: list[Include] = []
    for block in parsed.blocks:
        if not block.closed:
            problems.append(f"{page}:{block.line}: code fence is never closed")
            continue
        if block.lang == "mermaid":
            continue  # diagrams are prose, written in the page
        if not any(t.strip() for _, t in block.body):
            problems.append(f"{page}:{block.line}: empty code block — include a snippet or remove it")
        for no, text in block.body:
            if text.strip() and not pages.INCLUDE.match(text):
                problems.append(
                    f"{page}:{no}: code typed into the page ({text.strip()[:60]!r}) — move it into a "
                    f"file under snippets/, declare it in a manifest.yaml and include it with "
                    f'--8<-- "path/to/file:section"'
                )
        includes += block.includes
    return includes, problems


def check_pages(docs: Path, snippets: Path) -> tuple[list[Include], list[str]]:
    """Fence rule and include targets (missing file, missing section, line ranges)."""
    all_includes: list[Include] = []
    problems: list[str] = []
    for page in pages.all_pages(docs):
        includes, page_problems = scan_page(page)
        problems += page_problems
        for inc in includes:
            problem = pages.include_problem(inc, snippets)
            if problem:
                problems.append(problem)
                continue
            all_includes.append(inc)
    return all_includes, problems


def snippet_files(snippets: Path) -> list[str]:
    return sorted(
        p.relative_to(snippets).as_posix()
        for p in snippets.rglob("*")
        if p.is_file() and p.name not in IGNORED_SNIPPET_FILES
    )


def check_declarations(snippets: Path, root: Path = ROOT) -> list[str]:
    """Every file declared, every declaration a file, every declaration exercised."""
    try:
        declared = manifest.load(snippets)
    except manifest.ManifestError as exc:
        return [str(exc)]
    problems = []
    files = set(snippet_files(snippets))
    for f in sorted(files - set(declared)):
        problems.append(
            f"snippets/{f}: not declared — add it to the nearest manifest.yaml with its kind, expect and checks"
        )
    for path, snip in sorted(declared.items()):
        if path not in files:
            problems.append(
                f"{snip.where()}: declares snippets/{path}, which does not exist — remove the entry or restore the file"
            )
        if not snip.checks and snip.expect != "illustrative":
            problems.append(
                f"{snip.where()}: snippets/{path} has no check that exercises it — add checks, "
                f"or mark it `expect: illustrative` with a `reason:`"
            )
        for check in snip.checks:
            problems += [
                f"{snip.where()}: check `{check}` of snippets/{path} has no test: {p}"
                for p in check_implementations(check, root)
            ]
    return problems


def check_implementations(check: str, root: Path = ROOT) -> list[str]:
    """Every test module that checks.py lists for `check` exists and marks a test with it."""
    problems = []
    for test_file in CHECKS[check].tests:
        path = root / test_file
        if not path.is_file() or f'mark.check("{check}"' not in path.read_text(encoding="utf-8"):
            problems.append(
                f'{test_file} must implement @pytest.mark.check("{check}") (checks.py lists it for `{check}`)'
            )
    return problems


def check_declaration(
    name: str, check: Check, phrases: set[str], derived_from: dict[str, str], root: Path = ROOT
) -> list[str]:
    """One check is one complete declaration: its description in both languages, a proof-line phrase that
    exists (`phrases`: the phrase functions' names), and each figure it promises recorded by its tests — the
    key (or, for a derived figure, the key it is derived from: `derived_from`) appears in one of its test
    modules, in a helper module of their tier folders or in tests/support.py."""
    where = f"snipcheck/checks.py `{name}`"
    problems = [
        f"{where}: no description in {lang} — add what={{'en': …, 'ru': …}}"
        for lang in pages.LANGS
        if not check.what.get(lang, "").strip()
    ]
    if check.phrase not in phrases:
        problems.append(
            f"{where}: phrase {check.phrase!r} names no phrase function (known: {', '.join(sorted(phrases))}) — "
            f"add it to snipcheck.site.phrases.PHRASES or name an existing one"
        )
    sources = [root / f for f in check.tests]
    for folder in {s.parent for s in sources}:
        sources += [f for f in folder.glob("*.py") if not f.name.startswith("test_")]
    sources.append(root / "tests" / "support.py")
    text = "\n".join(s.read_text(encoding="utf-8") for s in sources if s.is_file())
    for key in check.figures:
        recorded = derived_from.get(key, key)
        if not re.search(rf"\b{re.escape(recorded)}\b", text):
            problems.append(
                f"{where}: figure {key!r} is quoted from its results, but no test of it records {recorded!r} "
                f"({', '.join(check.tests)}) — record it with the `measure` fixture, or drop it from figures"
            )
    return problems


def check_language_coverage(docs: Path, snippets: Path, includes: list[Include]) -> list[str]:
    """Every snippet file is included by at least one Russian and one English page."""
    by_lang: dict[str, set[str]] = {lang: set() for lang in pages.LANGS}
    for inc in includes:
        by_lang[page_lang(inc.page)].add(inc.path)
    problems = []
    for f in snippet_files(snippets):
        for lang in pages.LANGS:
            if f not in by_lang[lang]:
                suffix = ".en.md" if lang == "en" else ".md"
                problems.append(
                    f"snippets/{f}: no {lang} page includes it — include it from a docs/*{suffix} "
                    f"page (or delete the file and its manifest entry)"
                )
    return problems
