"""The proof line under a code block: what the suite did to the included file and what it saw.

Pure text: from a manifest entry and the run report's records to one compact HTML line (a
`<details>` whose summary is the line and whose body lists every check with its figures, test
node id and a link to the test source), in the page's language. No mkdocs here; the hook calls it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from ..i18n import proof_texts
from ..model.checks import CHECKS
from ..model.checks import what as describe
from ..model.figures import number, unit_in, with_unit
from ..model.manifest import Snippet
from ..run.results import Results
from .phrases import Lang, phrase, t


@dataclass(frozen=True)
class Context:
    results: Results
    lang: Lang
    head: str | None = None  # commit being built
    repo_url: str | None = None  # https://github.com/owner/repo, or None: no links

    @property
    def stale(self) -> bool:
        return bool(self.results.present and self.head and self.results.commit and self.results.commit != self.head)


# ---- per-check phrases: what was seen, from the records of one check -----------------------------


# ---- one check's state -------------------------------------------------------------------------

PASSED, FAILED, SKIPPED, MISSING = "passed", "failed", "skipped", "missing"


def check_state(recs: list[dict]) -> str:
    results = {r.get("result") for r in recs}
    if not recs:
        return MISSING
    if "failed" in results:
        return FAILED
    if results <= {"skipped"}:
        return SKIPPED
    if "passed" in results:
        return PASSED
    return MISSING  # pending or unknown results are not a pass


def snippet_state(snip: Snippet, results: Results) -> str:
    states = [check_state(results.records(snip.path, c)) for c in snip.checks]
    for state in (FAILED, MISSING, SKIPPED):
        if state in states:
            return state
    return PASSED if states else "illustrative"


BADGE = {
    PASSED: ("проверено", "verified"),
    FAILED: ("ПРОВАЛЕНО", "FAILED"),
    SKIPPED: ("проверено частично", "partly verified"),
    MISSING: ("не запускалось в этой сборке", "not run in this build"),
    "illustrative": ("иллюстрация", "illustrative"),
}
MARK = {PASSED: "✓", FAILED: "✗", SKIPPED: "–", MISSING: "○"}

# How far a check takes the proof, weakest first: the badge names the strongest level a block's passed checks
# reached, so a block that was only linted never wears the same badge as one that was built, run and probed.
LEVELS = (
    ("линтер", "linted"),
    ("компилируется", "compiled"),
    ("собран", "built"),
    ("запущен", "ran"),
    ("поднят в Compose", "booted"),
    ("принят API-сервером", "accepted by the API server"),
    ("раскатан на узле", "rolled out"),
)
LEVEL_OF = {
    "hadolint": 0,
    "yamllint": 0,
    "compose-config": 0,
    "kubeconform": 0,
    "actionlint": 0,
    "shellcheck": 0,
    "gofmt": 0,
    "parse": 0,
    "consistency": 0,
    "go-vet": 1,
    "image-build": 2,
    "go-test": 3,
    "image-run": 3,
    "image-antipattern": 3,
    "compose-up": 4,
    "compose-antipattern": 4,
    "kube-apiserver": 5,
    "kube-node": 6,
}


def level_reached(snips: list[Snippet], results: Results) -> int | None:
    """The strongest level among the passed checks of `snips` (None when none passed)."""
    passed = [
        LEVEL_OF[c]
        for s in snips
        for c in s.checks
        if c in LEVEL_OF and check_state(results.records(s.path, c)) == PASSED
    ]
    return max(passed) if passed else None


# ---- rendering ---------------------------------------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: Any) -> str:
    """Escaped text with its `code spans` shown as code (manifest texts quote commands, paths and errors)."""
    parts = str(text).split("`")
    return "".join(f"<code>{_e(part)}</code>" if i % 2 else _e(part) for i, part in enumerate(parts))


def _first_line(text: Any, limit: int = 160) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _codes(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def summary(snip: Snippet, ctx: Context) -> str:
    """The visible line (plain text) for one snippet."""
    lang, results = ctx.lang, ctx.results
    if not snip.checks:  # the badge already says "illustrative"
        return t(lang, "не запускается: ", "not run: ") + proof_texts.text(snip.reason, lang)
    done, skipped, missing, failed = [], [], [], []
    for check in snip.checks:
        recs = results.records(snip.path, check)
        state = check_state(recs)
        if state == PASSED:
            done.append(phrase(check, recs, lang, snip))
        elif state == FAILED:
            failed.append(check)
        elif state == SKIPPED:
            skipped.append(check)
        else:
            missing.append(check)
    prefix = ""
    if snip.kind == "dockerfile" and not any(c.startswith("image-") for c in snip.checks):
        prefix = t(lang, "только линтер, здесь не собирается: ", "linted only, not built here: ")
    if not results.present:
        declared = ", ".join(f"`{c}`" for c in snip.checks)
        return prefix + t(lang, f"объявлены проверки: {declared}", f"declared checks: {declared}")
    parts = []
    if failed:
        parts.append(t(lang, f"провалено: {_codes(failed)}", f"failed: {_codes(failed)}"))
    parts += done
    if skipped:
        registry = snip.settings.get("needs_registry")
        if registry:
            images = ", ".join(registry) if isinstance(registry, list) else str(registry)
            parts.append(
                t(
                    lang,
                    f"не запускалось здесь: {_codes(skipped)} (нужен registry: {images})",
                    f"not run here: {_codes(skipped)} (needs a registry: {images})",
                )
            )
        else:
            parts.append(t(lang, f"пропущено: {_codes(skipped)}", f"skipped: {_codes(skipped)}"))
    if missing:
        parts.append(t(lang, f"нет результата: {_codes(missing)}", f"no result: {_codes(missing)}"))
    return prefix + " · ".join(parts)


def test_link(check: str, ctx: Context) -> str:
    name = _e(check)
    spec = CHECKS.get(check)
    if not (ctx.repo_url and spec):
        return f"<code>{name}</code>"
    ref = ctx.results.commit or ctx.head or "HEAD"
    url = f"{ctx.repo_url.rstrip('/')}/blob/{ref}/{spec.tests[0]}"
    return f'<a href="{_e(url)}"><code>{name}</code></a>'


_SKIP_KEYS = {
    "check",
    "result",
    "seconds",
    "at",
    "test",
    "tests",
    "error",
    "reason",
    "claim",
    "image_sources",
    "image_bytes",
    "output",
    "compose_errors",
    "kubeconform_errors",
}


def _figures(rec: dict[str, Any], lang: Lang) -> str:
    """The record's figures, each named in the page's language ("размер образа 33.3 МБ")."""
    items = []
    for key, value in rec.items():
        if key in _SKIP_KEYS or value is None or isinstance(value, dict | list) and not value:
            continue
        if isinstance(value, bool):
            shown = t(lang, "да" if value else "нет", "yes" if value else "no")
        elif isinstance(value, int | float):
            shown = with_unit(key, value, lang)
        elif isinstance(value, list):  # names: files, codes, images
            items.append(f"{_e(proof_texts.label(key, lang))}: " + ", ".join(f"<code>{_e(v)}</code>" for v in value))
            continue
        else:  # a measured name or code ("AArch64", "HIT"): shown as code
            items.append(f"{_e(proof_texts.label(key, lang))}: <code>{_e(value)}</code>")
            continue
        items.append(f"{_e(proof_texts.label(key, lang))}: {_e(shown)}")
    return "; ".join(items)


def details(snip: Snippet, ctx: Context) -> str:
    lang = ctx.lang
    rows = []
    for check in snip.checks:
        recs = ctx.results.records(snip.path, check)
        state = check_state(recs) if ctx.results.present else MISSING
        what = f" — {_inline(describe(check, lang))}" if check in CHECKS else ""
        lines = [f'<span class="sc-mark sc-{state}">{MARK[state]}</span> {test_link(check, ctx)}{what}']
        for rec in recs:
            bits = [
                t(
                    lang,
                    {"passed": "пройдено", "failed": "провалено", "skipped": "пропущено"}.get(
                        rec.get("result", ""), str(rec.get("result"))
                    ),
                    str(rec.get("result")),
                )
            ]
            if rec.get("seconds") is not None:
                bits.append(f"{number(rec['seconds'])} {unit_in('s', lang)}")
            fig = _figures(rec, lang)
            if fig:
                bits.append(fig)
            if rec.get("reason"):
                bits.append(t(lang, "причина: ", "reason: ") + _e(_first_line(rec["reason"])))
            if rec.get("error"):
                bits.append(t(lang, "ошибка: ", "error: ") + _e(_first_line(rec["error"])))
            node = rec.get("test")
            tests = [node] if node else sorted((rec.get("tests") or {}).keys())
            if tests:
                bits.append(
                    " ".join(f"<code>{_e(n)}</code>" for n in tests[:3])
                    + (f" +{len(tests) - 3}" if len(tests) > 3 else "")
                )
            lines.append("; ".join(bits))
        if not recs:
            lines.append(t(lang, "не запускалось в этой сборке", "not run in this build"))
        rows.append("<li>" + "<br>".join(lines) + "</li>")
    notes = []
    note = snip.settings.get("note") or snip.settings.get("hadolint_note")
    for label, text in (
        (t(lang, "утверждение текста", "the text's claim"), snip.claim),
        (t(lang, "почему не запускается", "why it is not run"), snip.reason),
        (t(lang, "примечание", "note"), note),
    ):
        if text:
            notes.append(f"<li>{_e(label)}: {_inline(proof_texts.text(text, lang))}</li>")
    where = (
        f"<li>{t(lang, 'файл', 'file')}: <code>snippets/{_e(snip.path)}</code>, "
        f"{t(lang, 'объявлен в', 'declared in')} <code>{_e(_manifest_where(snip))}</code></li>"
    )
    return "<ul>" + "".join(rows) + "".join(notes) + where + "</ul>"


def _manifest_where(snip: Snippet) -> str:
    from ..model.paths import rel

    return f"{rel(snip.manifest)}:{snip.line}"


def run_note(ctx: Context) -> str:
    """Which run the figures come from (shown in the expanded part)."""
    res, lang = ctx.results, ctx.lang
    if not res.present:
        return ""
    commit = (res.commit or "?")[:12]
    text = t(
        lang,
        f"прогон `{res.meta.get('run_id', '?')}`, коммит `{commit}`",
        f"run `{res.meta.get('run_id', '?')}`, commit `{commit}`",
    )
    if ctx.stale:
        text += t(lang, f" — НЕ текущий коммит `{ctx.head[:12]}`", f" — NOT the commit being built, `{ctx.head[:12]}`")
    return f'<p class="sc-run">{_inline(text)}</p>'


def render(snips: list[Snippet], ctx: Context, anchor: str) -> str:
    """The whole block for one code fence (usually one snippet)."""
    states = [
        snippet_state(s, ctx.results) if ctx.results.present else ("illustrative" if not s.checks else MISSING)
        for s in snips
    ]
    overall = next((st for st in (FAILED, MISSING, SKIPPED, PASSED) if st in states), "illustrative")
    badge = t(ctx.lang, *BADGE[overall])
    level = level_reached(snips, ctx.results) if ctx.results.present else None
    if level is not None and overall in (PASSED, SKIPPED):
        badge += ": " + t(ctx.lang, *LEVELS[level])
    if ctx.stale and overall not in (MISSING, "illustrative"):
        badge += t(ctx.lang, ", другой коммит", ", other commit")
    expect = ""
    if any(s.expect == "fails" for s in snips):
        expect = '<span class="sc-fails">❌ ' + t(ctx.lang, "пример ошибки", "anti-pattern") + "</span> "
    text = " | ".join(summary(s, ctx) for s in snips)
    body = "".join(details(s, ctx) for s in snips) + run_note(ctx)
    label = t(ctx.lang, "Проверка примера", "How this example is verified")
    return (
        f'<details class="snipcheck-proof sc-{overall}" id="{_e(anchor)}" data-search-exclude>'
        f'<summary title="{_e(label)}"><span class="sc-badge">{_e(badge)}</span> {expect}'
        f'<span class="sc-text">{_inline(text)}</span></summary>{body}</details>'
    )
