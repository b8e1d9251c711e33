"""Inventory rules: pages hold prose only, every code block is an include, every snippet
file is declared, included in both languages and exercised by a check.

Each rule is a function over (docs_dir, snippets_dir) returning problems as
"file:line: what is wrong — what to do" strings, so tests can run the same rules
on deliberately broken trees in a temporary directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import manifest
from .checks import CHECKS
from .paths import ROOT

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<target>[^"]+)"\s*$')
SECTION_MARK = re.compile(r"--8<--\s+\[(?P<kind>start|end):(?P<name>[A-Za-z0-9_.-]+)\]")
LANGS = ("ru", "en")
IGNORED_SNIPPET_FILES = {manifest.MANIFEST_NAME}


@dataclass(frozen=True)
class Include:
    page: Path
    line: int
    path: str        # relative to snippets/
    section: str | None


def page_lang(page: Path) -> str:
    return "en" if page.name.endswith(".en.md") else "ru"


def page_key(page: Path, docs: Path) -> str:
    """The page's language-neutral name: index.en.md and index.md are both `index.md`."""
    r = page.relative_to(docs).as_posix()
    return r[: -len(".en.md")] + ".md" if r.endswith(".en.md") else r


def pages(docs: Path) -> list[Path]:
    return sorted(docs.rglob("*.md"))


def _split_target(target: str) -> tuple[str, str | None]:
    # "path:section"; line ranges ("file:4:6") are not allowed (they drift).
    path, sep, section = target.partition(":")
    return path, (section if sep else None)


def scan_page(page: Path) -> tuple[list[Include], list[str]]:
    """Includes on a page, and problems with its fences."""
    includes: list[Include] = []
    problems: list[str] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    open_fence: tuple[str, int, str] | None = None  # (fence chars, line, info)
    body: list[tuple[int, str]] = []
    for no, text in enumerate(lines, start=1):
        m = FENCE.match(text)
        if open_fence is None:
            if m:
                open_fence = (m["fence"], no, m["info"].strip())
                body = []
            elif INCLUDE.match(text):
                problems.append(f"{page}:{no}: snippet include outside a code fence — "
                                f"wrap it in a fence with the language, e.g. ```go")
            continue
        if m and m["fence"][0] == open_fence[0][0] and len(m["fence"]) >= len(open_fence[0]) \
                and not m["info"].strip():
            fence_line, info = open_fence[1], open_fence[2]
            if info.split()[:1] == ["mermaid"]:
                pass  # diagrams are prose, written in the page
            elif not any(t.strip() for _, t in body):
                problems.append(f"{page}:{fence_line}: empty code block — include a snippet or remove it")
            for bno, btext in body:
                if info.split()[:1] == ["mermaid"] or not btext.strip():
                    continue
                inc = INCLUDE.match(btext)
                if not inc:
                    problems.append(
                        f"{page}:{bno}: code typed into the page ({btext.strip()[:60]!r}) — move it into a "
                        f"file under snippets/, declare it in a manifest.yaml and include it with "
                        f'--8<-- "path/to/file:section"')
                    continue
                path, section = _split_target(inc["target"])
                includes.append(Include(page, bno, path, section))
            open_fence = None
            continue
        body.append((no, text))
    if open_fence is not None:
        problems.append(f"{page}:{open_fence[1]}: code fence is never closed")
    return includes, problems


def sections_in(file: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"start": set(), "end": set()}
    for m in SECTION_MARK.finditer(file.read_text(encoding="utf-8", errors="replace")):
        found[m["kind"]].add(m["name"])
    return found


def check_pages(docs: Path, snippets: Path) -> tuple[list[Include], list[str]]:
    """Fence rule and include targets (missing file, missing section, line ranges)."""
    all_includes: list[Include] = []
    problems: list[str] = []
    for page in pages(docs):
        includes, page_problems = scan_page(page)
        problems += page_problems
        for inc in includes:
            target = snippets / inc.path
            if not target.is_file():
                problems.append(f"{inc.page}:{inc.line}: include of missing file snippets/{inc.path} — "
                                f"create it or fix the path")
                continue
            if inc.section is not None:
                if re.fullmatch(r"[0-9:,-]+", inc.section):
                    problems.append(f"{inc.page}:{inc.line}: line-range include {inc.path}:{inc.section} — "
                                    f"use a named section ([start:name]/[end:name]) instead")
                    continue
                marks = sections_in(target)
                if inc.section not in marks["start"] or inc.section not in marks["end"]:
                    problems.append(f"{inc.page}:{inc.line}: section '{inc.section}' not found in "
                                    f"snippets/{inc.path} — add `--8<-- [start:{inc.section}]` and "
                                    f"`--8<-- [end:{inc.section}]` comment lines there")
            all_includes.append(inc)
    return all_includes, problems


def snippet_files(snippets: Path) -> list[str]:
    return sorted(p.relative_to(snippets).as_posix() for p in snippets.rglob("*")
                  if p.is_file() and p.name not in IGNORED_SNIPPET_FILES)


def check_declarations(snippets: Path, root: Path = ROOT) -> list[str]:
    """Every file declared, every declaration a file, every declaration exercised."""
    try:
        declared = manifest.load(snippets)
    except manifest.ManifestError as exc:
        return [str(exc)]
    problems = []
    files = set(snippet_files(snippets))
    for f in sorted(files - set(declared)):
        problems.append(f"snippets/{f}: not declared — add it to the nearest manifest.yaml with its kind, "
                        f"expect and checks")
    for path, snip in sorted(declared.items()):
        if path not in files:
            problems.append(f"{snip.where()}: declares snippets/{path}, which does not exist — "
                            f"remove the entry or restore the file")
        if not snip.checks and snip.expect != "illustrative":
            problems.append(f"{snip.where()}: snippets/{path} has no check that exercises it — add checks, "
                            f"or mark it `expect: illustrative` with a `reason:`")
        for check in snip.checks:
            test_file = root / CHECKS[check].test_file
            if not test_file.is_file() or f'"{check}"' not in test_file.read_text(encoding="utf-8"):
                problems.append(f"{snip.where()}: check `{check}` of snippets/{path} has no test: "
                                f"{CHECKS[check].test_file} must implement @pytest.mark.check(\"{check}\")")
    return problems


def check_language_coverage(docs: Path, snippets: Path, includes: list[Include]) -> list[str]:
    """Every snippet file is included by at least one Russian and one English page."""
    by_lang: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for inc in includes:
        by_lang[page_lang(inc.page)].add(inc.path)
    problems = []
    for f in snippet_files(snippets):
        for lang in LANGS:
            if f not in by_lang[lang]:
                suffix = ".en.md" if lang == "en" else ".md"
                problems.append(f"snippets/{f}: no {lang} page includes it — include it from a docs/*{suffix} "
                                f"page (or delete the file and its manifest entry)")
    return problems


def check_page_sets(docs: Path) -> list[str]:
    """The Russian and English page sets are the same."""
    keys: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for page in pages(docs):
        keys[page_lang(page)].add(page_key(page, docs))
    problems = []
    for key in sorted(keys["ru"] - keys["en"]):
        problems.append(f"docs/{key}: has no English counterpart docs/{key[:-3]}.en.md — translate it")
    for key in sorted(keys["en"] - keys["ru"]):
        problems.append(f"docs/{key[:-3]}.en.md: has no Russian original docs/{key} — add it or remove the page")
    return problems
