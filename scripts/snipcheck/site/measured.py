"""`{{ measured "snippet/path" check figure }}`: a measured value quoted in prose.

Resolved by the site build from the run report; the same text in Russian and English. An unknown
snippet, a check the snippet does not declare or a figure outside snipcheck.model.figures.FIGURES fails
the build with the page's file:line. A figure the report lacks is written as "n/a" — or, in a
publishing build, fails it.
"""

from __future__ import annotations

from ..model.checks import CHECKS
from ..model.figures import FIGURES, value_of, with_unit
from ..model.manifest import Snippet
from ..run.results import Results
from .pagemarks import PageError, Placeholder

USAGE = 'write it as {{ measured "path/under/snippets" check figure }}'


def validate(ph: Placeholder, snippets: dict[str, Snippet]) -> tuple[str, str, str]:
    if len(ph.args) != 3:
        raise PageError(f"{ph.where}: placeholder `measured` takes three arguments — {USAGE}")
    path, check, key = ph.args
    snip = snippets.get(path)
    if snip is None:
        raise PageError(
            f"{ph.where}: unknown snippet {path!r} in a measured placeholder — use a path declared "
            f"in a snippets/**/manifest.yaml"
        )
    if check not in snip.checks:
        raise PageError(
            f"{ph.where}: snippets/{path} does not declare check {check!r} (it declares "
            f"{', '.join(snip.checks) or 'none'})"
        )
    if key not in FIGURES:
        raise PageError(f"{ph.where}: unknown figure {key!r}; known figures: {', '.join(sorted(FIGURES))}")
    if key not in CHECKS[check].figures:
        raise PageError(
            f"{ph.where}: check {check!r} records no figure {key!r} (it records "
            f"{', '.join(CHECKS[check].figures) or 'none'}) — name the check that measures it"
        )
    return path, check, key


def resolve(ph: Placeholder, snippets: dict[str, Snippet], results: Results, *, lang: str, publish: bool) -> str:
    path, check, key = validate(ph, snippets)
    for rec in results.records(path, check):
        value = value_of(rec, key)
        if value is not None and rec.get("result") == "passed":
            return with_unit(key, value, lang)
    if publish:
        raise PageError(
            f"{ph.where}: the report {results.path} has no passed {check} result with {key} for "
            f"snippets/{path} — a published page cannot quote a figure that was not measured"
        )
    return "n/a (не измерено в этой сборке)" if lang == "ru" else "n/a (not measured in this build)"
