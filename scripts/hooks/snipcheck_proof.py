"""mkdocs hook: proof lines under code blocks, measured figures, charts, the verification page.

Thin glue: every job lives in scripts/snipcheck (pagemarks, proof, measured, charts, verification,
publish); this file only wires them to mkdocs events. Registered under `hooks:` in mkdocs.yml.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from mkdocs.exceptions import PluginError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from snipcheck.model import manifest
from snipcheck.model.pages import page_lang  # noqa: E402
from snipcheck.model.paths import REPORT, SNIPPETS  # noqa: E402
from snipcheck.run import results  # noqa: E402
from snipcheck.site import charts, errata_links, measured, pagemarks, proof, publish, verification

_STATE: dict = {}
_SPENT: dict[str, float] = {}  # seconds per event, printed at the end with SNIPCHECK_HOOK_TIMING=1


def _timed(fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _SPENT[fn.__name__] = _SPENT.get(fn.__name__, 0.0) + time.perf_counter() - start

    wrapper.__name__ = fn.__name__
    return wrapper


_TOKEN_P = re.compile(r'<p(?: id="(?P<id>[^"]+)")?>(?P<token>SNIPCHECK(?:TOKEN|CHART)\d+X)</p>')


def _stamp(paths) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns) for p in paths if p.exists())


def _cached(name: str, stamp: tuple, load):
    """Load once per change: i18n builds every language with its own on_config, serve rebuilds often."""
    hit = _CACHE.get(name)
    if hit is None or hit[0] != stamp:
        _CACHE[name] = hit = (stamp, load())
    return hit[1]


_CACHE: dict = {}


@_timed
def on_config(config):
    try:
        _STATE["snippets"] = _cached(
            "manifest", _stamp(manifest.manifest_files(SNIPPETS)), lambda: manifest.load(SNIPPETS)
        )
        _STATE["results"] = _cached("report", _stamp([REPORT]), lambda: results.load(REPORT))
    except (manifest.ManifestError, results.ReportError) as exc:
        raise PluginError(str(exc)) from exc
    git_head = Path(SNIPPETS).parent / ".git"
    _STATE["head"] = _cached("head", (time.monotonic() // 5,) + _stamp([git_head]), results.head_commit)
    _STATE["publish"] = publish.enabled()
    _STATE["html"] = {}
    return config


@_timed
def on_pre_build(config):
    if not _STATE["publish"]:
        return
    found = publish.problems(Path(config.docs_dir), SNIPPETS, _STATE["snippets"], _STATE["results"], _STATE["head"])
    if found:
        shown = "\n  ".join(found[:25]) + (f"\n  … and {len(found) - 25} more" if len(found) > 25 else "")
        raise PluginError(f"publishing build refused ({publish.ENV}=1):\n  {shown}")


def _lang(page) -> str:
    return getattr(page.file, "locale", None) or page_lang(Path(page.file.abs_src_path))


@_timed
def on_page_markdown(markdown, page, config, files):
    src = Path(page.file.abs_src_path)
    lang = _lang(page)
    offset = pagemarks.line_offset(src.read_text(encoding="utf-8"), markdown)
    ctx = proof.Context(_STATE["results"], lang, _STATE["head"], config.repo_url or None)
    snippets = _STATE["snippets"]
    html: dict[str, str] = {}
    try:
        found = pagemarks.placeholders(markdown, src, offset)
        replacements = []
        for n, (m, ph) in enumerate(found):
            if ph.name == "measured":
                text = measured.resolve(ph, snippets, _STATE["results"], lang=lang, publish=_STATE["publish"])
            elif ph.name == "chart":
                if len(ph.args) != 1 or ph.args[0] not in charts.CHARTS:
                    raise pagemarks.PageError(f"{ph.where}: unknown chart {ph.args}; known: {', '.join(charts.CHARTS)}")
                token = f"SNIPCHECKCHART{n}X"
                html[token] = charts.render(ph.args[0], _STATE["results"], lang)
                text = f"\n\n{token}\n\n"
            elif ph.name == "verification":
                if len(ph.args) != 1 or ph.args[0] not in verification.SECTIONS:
                    raise pagemarks.PageError(
                        f"{ph.where}: unknown verification section {ph.args}; known: {', '.join(verification.SECTIONS)}"
                    )
                text = verification.render(
                    ph.args[0],
                    docs=Path(config.docs_dir),
                    snippets=snippets,
                    results=_STATE["results"],
                    lang=lang,
                    head=_STATE["head"],
                )
            else:
                raise pagemarks.PageError(
                    f"{ph.where}: unknown placeholder {m[0]!r} — known: measured, chart, verification"
                )
            replacements.append((m, text))
        markdown, blocks = pagemarks.mark_blocks(markdown, src, offset)
        if src.name.startswith("errata."):
            ref = _STATE["results"].commit or _STATE["head"] or "HEAD"
            markdown = errata_links.link_tests(markdown, config.repo_url or None, ref)
        # resolve after marking: placeholders never sit inside code fences, and line numbers stay exact
        markdown = pagemarks.replace(markdown, _shift(replacements, markdown))
    except pagemarks.PageError as exc:
        raise PluginError(str(exc)) from exc
    for block in blocks:
        snips = [snippets[i.path] for i in block.includes if i.path in snippets]
        if snips:
            html[block.token] = proof.render(snips, ctx, block.anchor)
    _STATE["html"][page.file.src_uri] = html
    return markdown


def _shift(replacements, markdown):
    """Re-find each placeholder in the marked markdown (marking inserted lines before some of them)."""
    out, pos = [], 0
    for m, text in replacements:
        again = re.compile(re.escape(m[0])).search(markdown, pos)
        out.append((again, text))
        pos = again.end()
    return out


@_timed
def on_page_content(html, page, config, files):
    tokens = _STATE["html"].pop(page.file.src_uri, {})

    def swap(m: re.Match) -> str:
        return tokens.get(m["token"], m[0])

    return _TOKEN_P.sub(swap, html)


def on_post_build(config):
    if os.environ.get("SNIPCHECK_HOOK_TIMING"):
        spent = ", ".join(f"{k} {v:.3f} s" for k, v in _SPENT.items())
        print(f"snipcheck hook so far: {sum(_SPENT.values()):.3f} s ({spent})", file=sys.stderr)
