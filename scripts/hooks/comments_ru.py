"""MkDocs hook: Russian pages show snippets with Russian comments; English pages the files as they are.

On every build (mkdocs-static-i18n builds each language with the same config) the snippet tree is rendered
once with the catalogs of translations/comments.ru/ (snipcheck.i18n.comments) into a temporary directory. Before
each page is converted, the page's language — `x.en.md` is English, `x.md` Russian, the same rule as
snipcheck.model.pages.page_lang — selects the base_path of pymdownx.snippets: the rendered tree for Russian
pages, snippets/ for English ones. pymdownx.snippets still does the section extraction, dedent and
check_paths; nothing in the page text is rewritten.
"""

from __future__ import annotations

import atexit
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scripts/, for snipcheck

from snipcheck.harness import saferm  # noqa: E402
from snipcheck.i18n import catalog as comment_catalog
from snipcheck.i18n import comments
from snipcheck.model import manifest
from snipcheck.model.pages import page_lang  # noqa: E402

log = logging.getLogger("mkdocs.hooks.comments_ru")
SNIPPETS_EXT = "pymdownx.snippets"
_state: dict[str, Any] = {}


def _signature(snippets: Path) -> tuple[tuple[str, int], ...]:
    """What the rendering depends on: every snippet and catalog file with its mtime (cheap to compute)."""
    files = [p for p in snippets.rglob("*") if p.is_file()] + comment_catalog.catalog_files(comment_catalog.CATALOGS)
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files))


def _rendered_tree(snippets: Path) -> Path:
    """Render once per change: each language build (and each `mkdocs serve` rebuild) calls on_config."""
    if "tree" not in _state:
        _state["tree"] = Path(tempfile.mkdtemp(prefix="snippets-ru-"))
        atexit.register(saferm.remove_tree, _state["tree"])
    signature = _signature(snippets)
    if _state.get("signature") == signature:
        return _state["tree"]
    declared = manifest.load(snippets)
    rendered = comments.render_all(snippets, declared, comment_catalog.load_catalogs(comment_catalog.CATALOGS))
    comments.write_tree({path: r.text for path, (_, r) in rendered.items()}, _state["tree"])
    _state["signature"] = signature
    # only what a page shows counts (the same rule as `python -m snipcheck comments`): a comment outside the
    # included sections, such as a file header, is never on a page
    shown = comments.page_includes(snippets.parent / "docs", snippets)
    missing = sum(
        1
        for path, (text, r) in rendered.items()
        for c in r.missing
        if c.line in comment_catalog.included_lines(text, shown.get(path, set()))
    )
    if missing:
        log.info("comments_ru: %d shown comment(s) without Russian text (python -m snipcheck comments)", missing)
    return _state["tree"]


def on_config(config: Any) -> Any:
    opts = config.mdx_configs.setdefault(SNIPPETS_EXT, {})
    if "english" not in _state:
        _state["english"] = list(opts.get("base_path") or [])
    snippets = Path(config.config_file_path).resolve().parent / "snippets"
    try:
        _state["russian"] = [str(_rendered_tree(snippets))]
    except manifest.ManifestError as exc:  # a bad manifest or snippet file: its name and what to do
        raise PluginError(f"comments_ru: {exc}") from None
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    lang = page_lang(Path(page.file.src_uri))
    config.mdx_configs[SNIPPETS_EXT]["base_path"] = _state["russian"] if lang == "ru" else _state["english"]
    return markdown
