"""MkDocs hook: each language of the site gets its own search index.

mkdocs-static-i18n builds every language into one site and leaves one search index holding both
(`search/search_index.json`, lunr languages `[ru, en]`), and Material loads that index from
`__config.base` on every page — so an English search also returned Russian pages. This hook:

- after the last language is built, splits the index: the Russian pages stay in `search/`, the English
  ones move to `en/search/search_index.json` with their locations made relative to `/en/`, and each index
  names its own lunr languages (Russian keeps English too: its pages are full of English terms);
- points each English page's `__config.base` at `/en/`, so Material loads the English index there and
  resolves the results' locations against it;
- turns on stemming that works: the index keeps lunr's stemmer (mkdocs.yml `pipeline`), and
  `scripts/hooks/stem_queries.js`, appended to Material's search worker, also searches each typed term without
  Material's trailing wildcard, which lunr never stems;
- drops the `<link rel="alternate" hreflang>` tags from the page head: Material fetches `sitemap.xml` next
  to each of them (a 404 per language on every page load with the plugin's per-page links,
  mkdocs-material#6582), and with links at the language roots its click handler sends the language
  switcher to the other language's home page whenever the site is served on a port other than the
  scheme's default (it compares sitemap URLs without the port). The switcher's own per-page links stay,
  and the sitemap keeps each page's hreflang alternates for search engines.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.per_language")

# lunr languages of each language's index (Material loads lunr.<lang>.min.js for each).
SEARCH_LANGS = {"ru": ["ru", "en"], "en": ["en"]}

_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]+">')
_CONFIG = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)


def _i18n(config: Any) -> Any:
    plugin = config.plugins.get("i18n")
    if plugin is None:
        raise RuntimeError("scripts/hooks/per_language.py needs the mkdocs-static-i18n plugin (`plugins: [i18n]`)")
    return plugin


def _roots(config: Any) -> dict[str, str]:
    """Each built language's root as a site-relative URL: {'ru': '', 'en': 'en/'}."""
    return {lang.locale: lang.link.lstrip("/") for lang in _i18n(config).config.languages if lang.build}


def _page_locale(page: Any, roots: dict[str, str]) -> str:
    for locale, root in sorted(roots.items(), key=lambda kv: -len(kv[1])):
        if page.url.startswith(root):
            return locale
    raise RuntimeError(f"page {page.url!r} is under no language root {roots}")


def on_post_page(output: str, page: Any, config: Any) -> str:
    roots = _roots(config)
    output = _ALTERNATE.sub("", output)
    root = roots[_page_locale(page, roots)]
    if not root:
        return output
    here = page.url or "./"

    def english_base(match: re.Match[str]) -> str:
        data = json.loads(match.group(2))
        data["base"] = get_relative_url(root, here).rstrip("/") or "."
        return match.group(1) + json.dumps(data) + match.group(3)

    output, count = _CONFIG.subn(english_base, output, count=1)
    if count != 1:
        raise RuntimeError(f"{page.file.src_uri}: no Material __config script to point at the {root} search index")
    return output


STEM_QUERIES = Path(__file__).with_name("stem_queries.js")


def _patch_search_worker(site: Path) -> None:
    workers = sorted((site / "assets" / "javascripts" / "workers").glob("search.*.min.js"))
    if len(workers) != 1:
        raise RuntimeError(
            f"scripts/hooks/per_language.py: expected one Material search worker, found {workers} — "
            f"Material changed its assets; update the hook"
        )
    text = workers[0].read_text(encoding="utf-8")
    if "lunr.Index.prototype.search" not in text and "lunr" in text:
        patch = STEM_QUERIES.read_text(encoding="utf-8")
        workers[0].write_text(text.rstrip("\n") + "\n" + patch, encoding="utf-8")


def _split_index(site: Path, roots: dict[str, str]) -> None:
    path = site / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    prefixes = {locale: root for locale, root in roots.items() if root}
    default = next(locale for locale, root in roots.items() if not root)
    per_lang: dict[str, list[dict[str, Any]]] = {locale: [] for locale in roots}
    for doc in index["docs"]:
        locale = next((lc for lc, p in prefixes.items() if doc["location"].startswith(p)), default)
        if locale != default:
            doc = {**doc, "location": doc["location"][len(prefixes[locale]) :]}
        per_lang[locale].append(doc)
    for locale, docs in per_lang.items():
        out = site / roots[locale] / "search" / "search_index.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        body = {**index, "config": {**index["config"], "lang": SEARCH_LANGS.get(locale, [locale])}, "docs": docs}
        out.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        log.info(f"search index for '{locale}': {len(docs)} entries in {out.relative_to(site)}")


@event_priority(-200)  # after mkdocs-static-i18n (-100) has built every language and written the index
def on_post_build(config: Any) -> None:
    if getattr(_i18n(config), "building", False):
        return  # an inner per-language build: the joint index is written after the last one
    roots = _roots(config)
    site = Path(config.site_dir)
    _split_index(site, roots)
    _patch_search_worker(site)
