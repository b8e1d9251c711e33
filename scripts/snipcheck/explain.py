"""`python -m snipcheck explain PATH`: everything about one snippet, for contributors.

PATH is a snippet path (`docker/bad/Dockerfile`, optionally prefixed with `snippets/`) or a page
and line (`docs/docker.md:11`, the line of or inside a code block). Prints its manifest entry
(file:line) with the settings its checks will use (the entry's own and the defaults), the pages
including it in each language (file:line), its comment catalog, every check with the tests that
implement it (and the tests that cover it by a `covers` marker), the proof line a reader sees under the
block in each language, and the last run's results with their figures. For a path that is not declared
it prints what to do to add it.
"""

from __future__ import annotations

import re
from pathlib import Path

from .i18n import catalog
from .model import manifest, pages
from .model.checks import CHECKS
from .model.figures import with_unit
from .model.pages import page_lang
from .model.paths import DOCS, REPORT, ROOT, SNIPPETS, TESTS, rel
from .run.results import Results, head_commit, load
from .site import pagemarks, proof


class ExplainError(ValueError):
    pass


def snippet_at(page: Path, line: int) -> str:
    """The snippet included by the code block at (or just above) `line` of `page`."""
    if not page.is_file():
        raise ExplainError(f"{page}: no such page")
    best = None
    for close_line, incs in pagemarks.fence_groups(page):
        first = min(i.line for i in incs) - 1  # the opening fence
        if first <= line <= close_line:
            return incs[0].path
        if close_line < line:
            best = incs[0].path
    if best is None:
        raise ExplainError(f"{page}:{line}: no code block at or above this line")
    return best


def resolve(arg: str) -> str:
    m = re.fullmatch(r"(?P<page>.+\.md):(?P<line>\d+)", arg)
    if m:
        page = Path(m["page"])
        return snippet_at(page if page.is_absolute() else ROOT / page, int(m["line"]))
    return arg.removeprefix("snippets/")


def implementing_tests(check: str) -> list[str]:
    """Test functions marked with check CHECK (per test or per module), as file::function."""
    found = []
    for test_file in CHECKS[check].tests:
        path = ROOT / test_file
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(rf'^pytestmark\s*=.*mark\.check\("{re.escape(check)}"\)', text, re.M):
            found += [f"{test_file}::{fn}" for fn in re.findall(r"^def (test_\w+)", text, re.M)]
            continue
        for m in re.finditer(rf'@pytest\.mark\.check\("{re.escape(check)}"\)', text):
            fn = re.compile(r"^def (\w+)", re.M).search(text, m.end())
            if fn:
                found.append(f"{test_file}::{fn[1]}")
    return found or list(CHECKS[check].tests)


def covering_tests(path: str) -> list[str]:
    """Tests that name the snippet in a `covers(...)` marker (besides the ones its checks parametrise)."""
    found = []
    for test_file in sorted(TESTS.rglob("test_*.py")):
        text = test_file.read_text(encoding="utf-8")
        for m in re.finditer(r"covers\(([^)]*)\)", text):
            if f'"{path}"' in m[1] or f"'{path}'" in m[1]:
                fn = re.compile(r"^def (\w+)", re.M).search(text, m.end())
                found.append(f"{rel(test_file)}::{fn[1] if fn else '?'}")
    return found


def todo_for(path: str) -> str:
    """What to do to add an undeclared file (CONTRIBUTING.md, "Add a code block")."""
    file = SNIPPETS / path
    first = (
        f"snippets/{path} exists but is not declared. To add it:"
        if file.is_file()
        else f"snippets/{path} does not exist. To add a code block:\n  0. write the file snippets/{path}"
    )
    return "\n".join(
        [
            first,
            f"  1. python -m snipcheck new {path} --page docs/PAGE.md [--after HEADING-ID]   (declares it in the "
            "nearest manifest.yaml, includes it in the Russian page and its English twin, re-stamps the twin)",
            "  2. the settings its checks read, `expect: fails` and a `claim:` for a ❌ example",
            f"  3. the Russian text of its comments: python -m snipcheck comments --add {path} ENGLISH RUSSIAN",
            f"  4. python -m snipcheck explain {path}, then bash scripts/test.sh --changed",
            '(CONTRIBUTING.md, "Add a code block", says the same step by step.)',
        ]
    )


def proof_lines(snip: manifest.Snippet, results: Results) -> list[str]:
    """The line under the block as the site shows it, per language (plain text)."""
    head = head_commit()
    state = proof.snippet_state(snip, results) if results.present else "no report"
    return [f"  {lang}: [{state}] {proof.summary(snip, proof.Context(results, lang, head))}" for lang in pages.LANGS]


def explain(arg: str, results: Results | None = None) -> str:
    snippets = manifest.load(SNIPPETS)
    path = resolve(arg)
    snip = snippets.get(path)
    if snip is None:
        raise ExplainError(f"{arg}: not a declared snippet\n{todo_for(path)}")
    results = load(REPORT) if results is None else results
    out = [f"snippets/{snip.path}", f"  kind {snip.kind}, expect {snip.expect}"]
    if snip.claim:
        out.append(f"  claim: {snip.claim}")
    if snip.reason:
        out.append(f"  reason: {snip.reason}")
    out.append(f"manifest entry: {rel(snip.manifest)}:{snip.line}")
    effective = snip.effective_settings()
    if effective:
        out.append("settings (the entry's own; a default where it says so):")
        for key, value in effective.items():
            if isinstance(value, dict):
                own = snip.settings.get(key) or {}
                shown = ", ".join(f"{k}: {v}" + ("" if k in own else " (default)") for k, v in value.items())
                out.append(f"  {key}: {{{shown}}}")
            else:
                out.append(f"  {key}: {value}")
    cat, key = catalog.catalog_for(snip.path)
    out.append(f"comment catalog: {rel(cat)} → {key!r}")
    includes = pages.all_includes(DOCS, SNIPPETS)
    out.append("included by:")
    for lang in ("ru", "en"):
        where = [
            f"{rel(i.page)}:{i.line}" + (f" (section {i.section})" if i.section else "")
            for i in includes
            if i.path == snip.path and page_lang(i.page) == lang
        ]
        out.append(f"  {lang}: " + (", ".join(where) if where else "— no page (the inventory tests fail)"))
    head = head_commit()
    if results.present:
        stale = results.commit and head and results.commit != head
        out.append(
            f"last run: {rel(results.path)}, run {results.meta.get('run_id', '?')}, commit "
            f"{(results.commit or '?')[:12]}" + (f" (NOT the checked-out commit {head[:12]})" if stale else "")
        )
    else:
        out.append(f"last run: no report at {rel(results.path)} (run `bash scripts/test.sh`)")
    out.append("checks:")
    if not snip.checks:
        out.append("  none (illustrative)")
    for check in snip.checks:
        spec = CHECKS[check]
        out.append(f"  {check} [{spec.tier}] — {spec.what['en']}")
        for test in implementing_tests(check):
            out.append(f"    implemented by {test}")
        recs = results.records(snip.path, check)
        if results.present and not recs:
            out.append("    last result: none recorded")
        for rec in recs:
            figures = ", ".join(
                f"{k}={with_unit(k, v) if isinstance(v, int | float) else v}"
                for k, v in rec.items()
                if k not in {"check", "result", "seconds", "at", "test", "tests", "error", "claim"}
            )
            out.append(f"    {rec.get('result')} in {rec.get('seconds')} s — {rec.get('test', '')}")
            if figures:
                out.append(f"      {figures}")
            if rec.get("error"):
                out.append(f"      error: {str(rec['error']).strip().splitlines()[-1]}")
    covering = covering_tests(snip.path)
    if covering:
        out.append("also covered by:")
        out += [f"  {test}" for test in covering]
    out.append("proof line under the block:")
    out += proof_lines(snip, results)
    return "\n".join(out)
