"""`python -m snipcheck new SNIPPET --page docs/PAGE.md`: the first steps of adding a code block, done.

For a file that exists under snippets/ and is not declared yet, it
- declares it in the nearest manifest.yaml (its kind guessed from the file; the checks the manifests
  already give most entries of that kind; `expect: works`, or `illustrative` with a reason to write
  for a kind that nothing runs);
- includes it in the Russian page and in its English twin, in a code fence of the kind's language, at
  the end of the page or at the end of the section under a heading (`--after`, `--after-en`);
- re-stamps the English page if its stamp was current (the include is the only change to the pair);
and prints what is left: settings only the contributor knows, the Russian text of the comments the pages
show, and the commands that check the result. Nothing is written when anything is wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .i18n import catalog, parity, syntax
from .model import manifest, pages
from .model.paths import DOCS, ROOT, SNIPPETS, rel

FENCE_LANG = {
    "dockerfile": "dockerfile",
    "dockerignore": "text",
    "compose": "yaml",
    "kubernetes": "yaml",
    "kustomization": "yaml",
    "workflow": "yaml",
    "yaml": "yaml",
    "go": "go",
    "gomod": "text",
    "shell": "bash",
    "toml": "toml",
    "sql": "sql",
    "json": "json",
    "csharp": "csharp",
    "env": "bash",
    "text": "text",
}
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(\{[^}]*\})?\s*$")


class ScaffoldError(ValueError):
    """What is wrong with the request, and what to do; nothing was written."""


def guess_kind(path: str, text: str) -> str:
    """The manifest kind of a snippet file, from its name (and, for YAML, whether it is a Kubernetes object)."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        return "dockerfile"
    if lower == ".dockerignore":
        return "dockerignore"
    if lower in ("go.mod", "go.sum"):
        return "gomod"
    if lower.startswith(".env"):
        return "env"
    suffix = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if suffix in ("yaml", "yml"):
        if "/.github/workflows/" in f"/{path}" or "/workflows/" in f"/{path}":
            return "workflow"
        if lower.startswith(("compose", "docker-compose")):
            return "compose"
        if lower.startswith("kustomization"):
            return "kustomization"
        if re.search(r"^apiVersion:", text, re.M) and re.search(r"^kind:", text, re.M):
            return "kubernetes"
        return "yaml"
    return {"go": "go", "sh": "shell", "toml": "toml", "sql": "sql", "json": "json", "cs": "csharp"}.get(suffix, "text")


def usual_checks(kind: str, snippets: dict[str, manifest.Snippet]) -> list[str]:
    """The check list most working entries of `kind` declare today ([] when none: illustrative)."""
    lists = Counter(tuple(s.checks) for s in snippets.values() if s.kind == kind and s.expect == "works")
    return list(lists.most_common(1)[0][0]) if lists else []


def nearest_manifest(path: str, snippets: Path = SNIPPETS) -> Path:
    folder = (snippets / path).parent
    while folder != snippets.parent:
        candidate = folder / manifest.MANIFEST_NAME
        if candidate.is_file():
            return candidate
        folder = folder.parent
    raise ScaffoldError(
        f"snippets/{path}: no manifest.yaml in its folder or above — create snippets/<topic>/manifest.yaml "
        f"with a top-level `files:` mapping first"
    )


def _insert_at(lines: list[str], after: str | None, page: Path) -> int:
    """The line index where a new block goes: the end of the page, or the end of the section under the
    heading whose text or anchor id (`{ #id }`, the same in both languages) is `after` — before the next
    heading of the same or a higher level."""
    if after is None:
        return len(lines)
    for i, line in enumerate(lines):
        m = HEADING.match(line)
        anchor = re.search(r"#([\w-]+)", m[3] or "") if m else None
        if m and (m[2].strip() == after.strip() or (anchor and anchor[1] == after.strip().lstrip("#"))):
            level = len(m[1])
            for j in range(i + 1, len(lines)):
                n = HEADING.match(lines[j])
                if n and len(n[1]) <= level and not _in_fence(lines, j):
                    return j
            return len(lines)
    headings = [HEADING.match(x)[2] for x in lines if HEADING.match(x)]
    raise ScaffoldError(f"{rel(page)}: no heading {after!r} (headings: {', '.join(repr(h) for h in headings)})")


def _in_fence(lines: list[str], index: int) -> bool:
    opened = False
    for line in lines[:index]:
        if pages.FENCE.match(line):
            opened = not opened
    return opened


def _with_block(text: str, block: str, after: str | None, page: Path) -> tuple[str, int]:
    lines = text.split("\n")
    at = _insert_at(lines, after, page)
    while at > 0 and not lines[at - 1].strip():
        at -= 1  # the block follows the section's last text after one blank line
    gap = [""] if at < len(lines) and lines[at].strip() else []  # a blank line before what follows
    new = [*lines[:at], "", *block.split("\n"), *gap, *lines[at:]]
    joined = "\n".join(new)
    return (joined if joined.endswith("\n") else joined + "\n"), at + 3  # the include's 1-based line


@dataclass
class Plan:
    manifest_file: Path
    entry: str
    kind: str
    checks: list[str]
    ru_page: Path
    en_page: Path
    ru_text: str
    en_text: str
    ru_line: int
    en_line: int
    comments: list[str]


def plan(
    snippet: str,
    page: str,
    *,
    after: str | None = None,
    after_en: str | None = None,
    section: str | None = None,
    lang: str | None = None,
) -> Plan:
    path = snippet.removeprefix("snippets/")
    file = SNIPPETS / path
    if not file.is_file():
        raise ScaffoldError(f"snippets/{path}: no such file — write the snippet first, then run `new`")
    declared = manifest.load(SNIPPETS)
    if path in declared:
        s = declared[path]
        raise ScaffoldError(f"snippets/{path} is declared already ({rel(s.manifest)}:{s.line}) — see `explain {path}`")
    ru_page = (ROOT / page).resolve() if not Path(page).is_absolute() else Path(page)
    if pages.is_english(ru_page):
        raise ScaffoldError(f"{page}: name the Russian page (docs/x.md); its English twin gets the include too")
    en_page = pages.english_for(ru_page)
    for p in (ru_page, en_page):
        if not p.is_file():
            raise ScaffoldError(f"{rel(p)}: no such page — a code block goes on a page pair that exists")
    text = file.read_text(encoding="utf-8", errors="replace")
    if section is not None and section not in pages.sections_in(file)["start"]:
        raise ScaffoldError(
            f"snippets/{path}: no section {section!r} — add `--8<-- [start:{section}]` and "
            f"`--8<-- [end:{section}]` comment lines around the part to show"
        )
    kind = guess_kind(path, text)
    checks = usual_checks(kind, declared)
    target = f"{path}:{section}" if section else path
    block = f'```{lang or FENCE_LANG[kind]}\n--8<-- "{target}"\n```'
    ru_text, ru_line = _with_block(ru_page.read_text(encoding="utf-8"), block, after, ru_page)
    en_text, en_line = _with_block(en_page.read_text(encoding="utf-8"), block, after_en or after, en_page)
    mf = nearest_manifest(path)
    key = (SNIPPETS / path).relative_to(mf.parent).as_posix()
    if checks:
        entry = f"  {key}:\n    kind: {kind}\n    checks: [{', '.join(checks)}]\n"
    else:
        entry = (
            f"  {key}:\n    kind: {kind}\n    expect: illustrative\n    checks: []\n"
            f"    reason: TODO say why nothing runs it (a diagram, console output...)\n"
        )
    shown = catalog.included_lines(text, [section])
    comments = [
        c.text
        for c in syntax.find_comments(text, syntax.syntax_of(path, kind))
        if c.needs_translation and c.line in shown
    ]
    return Plan(mf, entry, kind, checks, ru_page, en_page, ru_text, en_text, ru_line, en_line, comments)


def scaffold(snippet: str, page: str, **where: str | None) -> str:
    """Do the plan (every check first, then the writes) and say what was done and what is left; `where`
    holds plan()'s placement options (after, after_en, section, lang)."""
    p = plan(snippet, page, **where)
    path = snippet.removeprefix("snippets/")
    stamp_was_current = parity.stamp_problem(p.en_page, DOCS) is None
    manifest_text = p.manifest_file.read_text(encoding="utf-8")
    p.manifest_file.write_text(manifest_text.rstrip("\n") + "\n" + p.entry, encoding="utf-8")
    p.ru_page.write_text(p.ru_text, encoding="utf-8")
    p.en_page.write_text(p.en_text, encoding="utf-8")
    restamped = stamp_was_current and parity.stamp(p.en_page)
    entry_line = len(manifest_text.rstrip("\n").split("\n")) + 1
    out = [
        f"declared snippets/{path} in {_show(p.manifest_file)}:{entry_line} — kind {p.kind}, "
        + (f"checks {', '.join(p.checks)}" if p.checks else "illustrative (nothing runs it)"),
        f"included in {_show(p.ru_page)}:{p.ru_line} and {_show(p.en_page)}:{p.en_line}",
        f"{_show(p.en_page)}: "
        + ("re-stamped (the include was the only change to the pair)" if restamped else "stamp left as it was")
        + ("" if stamp_was_current else " — it was stale before: update the translation, then `snipcheck stamp`"),
        "left to do:",
    ]
    todo = []
    if not p.checks:
        todo.append(f"write the `reason:` of the entry in {_show(p.manifest_file)} (or declare checks)")
    else:
        todo.append(
            f"check the entry in {_show(p.manifest_file)}: `expect: fails` with a `claim:` for a ❌ example; "
            f"settings the checks read (e.g. `run:` for image-run) — `explain {path}` lists the checks"
        )
    if p.comments:
        cat, key = catalog.catalog_for(path)
        todo.append(
            f"the Russian text of {len(p.comments)} comment(s) the pages show, in {_show(cat)} under "
            f"files: → {key!r}: "
            + "; ".join(repr(c) for c in p.comments)
            + f" (or: python -m snipcheck comments --add {path} ENGLISH RUSSIAN)"
        )
    todo.append("the prose around the block on both pages (the English page is a translation of the Russian one)")
    todo.append(f"python -m snipcheck explain {path}   then   bash scripts/test.sh --changed")
    out += [f"  {i}. {t}" for i, t in enumerate(todo, 1)]
    return "\n".join(out)


def _show(path: Path) -> str:
    return rel(path)
