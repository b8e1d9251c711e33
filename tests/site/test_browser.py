"""The built site in a real browser (Debian's chromium via Playwright): every page of both languages loads
cleanly, code blocks show and copy exactly their snippets, the language switcher round-trips, search stays
in its language and stems Russian word forms, and a phone-sized viewport works.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from browser import context, require_browser
from browser_checks import PhoneWalks, Tour, again_after_network_change, search_problems
from browser_checks import tour as browser_tour
from snipcheck.model.paths import DOCS, rel
from snipcheck.site.build import BuiltPage, built_pages
from support import selection

# the first test builds the site and tours it (module fixtures): ~100 s warm, 226 s seen on a cold, busy machine
pytestmark = [pytest.mark.site, pytest.mark.timeout(600)]


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems), pytrace=False)


def _report_retries(retries: list[str]) -> None:
    """A step redone after net::ERR_NETWORK_CHANGED (browser.NETWORK_CHANGED) shows in the run's warnings."""
    for retry in retries:
        warnings.warn(f"retried: {retry}", stacklevel=2)


def _toured(site: Path) -> list[BuiltPage]:
    """Every page of both languages; in a --changed run that changed only pages (changes.Selection.
    tour_pages), those pages and their twins in the other language."""
    pages = built_pages(site)
    sel = selection()
    only = set(sel.get("tour_pages") or []) if sel and not sel.get("everything") else set()
    if not only:
        return pages

    def twin_key(page: BuiltPage) -> str:
        return page.url.removeprefix("en/") if page.lang == "en" else page.url

    chosen = {twin_key(p) for p in pages if rel(p.source(DOCS)) in only}
    return [p for p in pages if twin_key(p) in chosen]


def _twins(site: Path) -> list[tuple[BuiltPage, BuiltPage]]:
    pages = _toured(site)
    en = {p.url: p for p in pages if p.lang == "en"}
    return [(p, en[f"en/{p.url}"]) for p in pages if p.lang == "ru"]


def _home_first(pages: list[BuiltPage]) -> list[BuiltPage]:
    return sorted(pages, key=lambda p: p.url not in ("", "en/"))


@pytest.fixture(scope="module")
def phone_walks(chromium: Any, site_base: str, built_site: Path) -> PhoneWalks:
    """Started first: the phone walks run in their own thread while the tour runs."""
    pages, toured = built_pages(built_site), _toured(built_site)
    visit = {p.url for p in toured} if len(toured) < len(pages) else None
    # the walk starts on the home page, or in a narrowed run on the first page it visits
    start = _home_first if visit is None else (lambda ps: sorted(ps, key=lambda p: p.url not in visit))
    by_lang = {lang: start([p for p in pages if p.lang == lang]) for lang in ("ru", "en")}
    return PhoneWalks(require_browser(), by_lang, site_base, visit)


@pytest.fixture(scope="module")
def tour(phone_walks: PhoneWalks, chromium: Any, site_base: str, built_site: Path, screenshots: Path) -> Tour:
    """One pass over every page of both languages (browser.tour); the tests below judge its parts."""
    return browser_tour(chromium, _twins(built_site), site_base, screenshots)


def test_every_page_loads_cleanly(tour: Tour, built_site: Path, screenshots: Path, measure: dict[str, Any]) -> None:
    pages = _toured(built_site)
    if len(pages) < len(built_pages(built_site)):
        print(f"--changed: only the changed pages and their twins are toured ({len(pages)} pages)")
    measure["pages"] = len(tour.pages)
    print(f"{len(tour.pages)} pages loaded")
    _report_retries(tour.network_retries)
    _fail_with(tour.load)
    assert tour.pages == {p.url for p in pages}
    assert len(list(screenshots.rglob("*.png"))) == len(pages)


def test_code_blocks_show_and_copy_their_snippets(tour: Tour, built_site: Path, measure: dict[str, Any]) -> None:
    measure["code_blocks"] = tour.code_blocks
    print(f"{tour.code_blocks} code blocks compared and copied")
    if len(tour.pages) == len(built_pages(built_site)):  # a --changed tour of the home pages has none
        assert tour.code_blocks > 0
    _fail_with(tour.code)


def test_language_switcher_leads_to_the_same_page_and_back(tour: Tour) -> None:
    _fail_with(tour.switcher)


# (page language, page the search runs on, query, page it must find; None: must find nothing)
SEARCHES = [
    ("ru", "", "уязвимостям", "docker/"),  # a Russian word form absent from the text: stemming
    ("ru", "compose/", "distroless", "docker/"),  # an English term on a Russian page: Russian results only
    ("en", "en/", "vulnerabilities", "en/docker/"),
    ("en", "en/compose/", "distroless", "en/docker/"),
    ("en", "en/", "уязвимостям", None),  # the English index holds no Russian page
]


@pytest.mark.parametrize(("lang", "on", "query", "expect"), SEARCHES, ids=[f"{s[0]}-{s[2]}" for s in SEARCHES])
def test_search_stays_in_its_language(
    chromium: Any, site_base: str, lang: str, on: str, query: str, expect: str | None
) -> None:
    def run() -> list[str]:
        with context(chromium, site_base) as (ctx, watch):
            page = ctx.new_page()
            page.goto(site_base + on, wait_until="networkidle")
            return search_problems(page, lang, query, expect, site_base) + watch.take()

    problems, redone = again_after_network_change(run, lambda found: found, f"search {query!r} on /{on}")
    _report_retries(redone)
    _fail_with(problems)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_phone_drawer_reaches_every_page_and_nothing_scrolls_sideways(
    phone_walks: PhoneWalks, built_site: Path, lang: str
) -> None:
    pages = [p for p in _toured(built_site) if p.lang == lang]
    reached, problems = phone_walks.result(lang)
    _report_retries([r for r in phone_walks.network_retries if f"({lang})" in r])
    _fail_with(problems)
    assert reached == len(pages), f"the drawer reached {reached} of {len(pages)} pages"


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ({"everything": None, "tour_pages": ["docs/compose.en.md"]}, {"compose/", "en/compose/"}),
        ({"everything": None, "tour_pages": ["docs/index.md"]}, {"", "en/"}),
        ({"everything": None, "tour_pages": []}, None),
        ({"everything": "scripts/snipcheck/x.py changed", "tour_pages": ["docs/index.md"]}, None),
    ],
)
def test_a_changed_run_tours_only_the_changed_pages_and_their_twins(
    built_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, selected: dict, expected: set[str] | None
) -> None:
    file = tmp_path / "selection.json"
    file.write_text(json.dumps(selected), encoding="utf-8")
    monkeypatch.setenv("SNIPCHECK_SELECTION", str(file))
    toured = {p.url for p in _toured(built_site)}
    assert toured == (expected if expected is not None else {p.url for p in built_pages(built_site)})
