"""Each browser check catches what it is there for: the same functions the site tests use, run on a copy of
the built site broken in one place per check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from browser import PHONE, context, copy_site, open_page, serve
from browser_checks import code_block_problems, load_problems, search_problems, sideways_problems, switch_problems
from snipcheck.site import build as sitebuild
from snipcheck.site.build import built_pages

pytestmark = [pytest.mark.site, pytest.mark.timeout(300)]  # builds a broken copy of the site first


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{file}: {old!r} not found — the negative test no longer breaks anything"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def _footer(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    start = html.index('<div class="md-copyright__highlight">') + len('<div class="md-copyright__highlight">')
    return html[start : html.index("</div>", start)].strip()


@pytest.fixture(scope="module")
def broken(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = copy_site(built_site, tmp_path_factory.mktemp("broken-site"))
    # a page with a broken asset
    _edit(site / "en" / "docker" / "index.html", "stylesheets/extra.css", "stylesheets/no-such.css")
    # a code block changed after rendering
    _edit(site / "en" / "docker" / "index.html", "Bad example: do NOT use in production", "Fine example")
    # a code block whose proof line is gone
    page = site / "en" / "kubernetes" / "index.html"
    text = page.read_text(encoding="utf-8")
    start = text.index('<details class="snipcheck-proof')
    page.write_text(text[:start] + text[text.index("</details>", start) + len("</details>") :], encoding="utf-8")
    # a missing translation of the footer (the Russian one on an English page)
    _edit(
        site / "en" / "compose" / "index.html",
        _footer(site / "en" / "compose" / "index.html"),
        _footer(site / "index.html"),
    )
    # a cross-language search result: the Russian pages back in the English index
    ru = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    en_file = site / "en" / "search" / "search_index.json"
    en = json.loads(en_file.read_text(encoding="utf-8"))
    en["docs"] += [{**d, "location": f"../{d['location']}"} for d in ru["docs"]]
    en_file.write_text(json.dumps(en, ensure_ascii=False), encoding="utf-8")
    # a language switcher that leads to the other language's home page
    _edit(
        site / "kubernetes" / "index.html",
        'href="../en/kubernetes/" hreflang="en" class="md-select__link"',
        'href="../en/" hreflang="en" class="md-select__link"',
    )
    # copy buttons that copy nothing (their clicks never reach Material's handler)
    _edit(
        site / "en" / "dotnet" / "index.html",
        "</body>",
        "<script>document.addEventListener('click', e => { if (e.target.closest('[data-md-type=copy]'))"
        " e.stopImmediatePropagation(); }, true);</script></body>",
    )
    # a page wider than a phone
    _edit(site / "en" / "cicd" / "index.html", "</article>", '<div style="width:1500px">wide</div></article>')
    return site


@pytest.fixture(scope="module")
def broken_base(broken: Path) -> Iterator[str]:
    with serve(broken, urlsplit(sitebuild.publishing_env()["SITE_URL"]).path) as base:
        yield base


def _page(site: Path, url: str) -> sitebuild.BuiltPage:
    return next(p for p in built_pages(site) if p.url == url)


def test_a_broken_asset_is_reported(chromium: Any, broken: Path, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, watch):
        problems = load_problems(ctx.new_page(), watch, _page(broken, "en/docker/"), broken_base)
    assert any("HTTP 404" in p and "no-such.css" in p for p in problems), problems


def test_a_changed_code_block_is_reported(chromium: Any, broken: Path, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, _watch):
        count, problems = code_block_problems(ctx.new_page(), _page(broken, "en/docker/"), broken_base)
    assert count > 0
    assert any("differs from the snippet" in p and "Fine example" in p for p in problems), problems
    assert any("copy button" in p and "Fine example" in p for p in problems), problems


def test_a_copy_button_that_copies_nothing_is_reported(chromium: Any, broken: Path, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, _watch):
        count, problems = code_block_problems(ctx.new_page(), _page(broken, "en/dotnet/"), broken_base)
    assert count > 0
    assert len([p for p in problems if "copied nothing" in p]) == count, problems


def test_a_russian_footer_on_an_english_page_is_reported(chromium: Any, broken: Path, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, watch):
        problems = load_problems(ctx.new_page(), watch, _page(broken, "en/compose/"), broken_base)
    assert any("shows Russian text" in p for p in problems), problems


def test_a_cross_language_search_result_is_reported(chromium: Any, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, watch):
        page = ctx.new_page()
        open_page(page, broken_base + "en/compose/", watch)
        problems = search_problems(page, "en", "distroless", "en/docker/", broken_base)
    assert any("is not a en page" in p for p in problems), problems


def test_a_switcher_leading_elsewhere_is_reported(chromium: Any, broken: Path, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, watch):
        page = ctx.new_page()
        open_page(page, broken_base + "kubernetes/", watch)
        problems = switch_problems(page, _page(broken, "en/kubernetes/"), broken_base)
    assert problems and "not /en/kubernetes/" in problems[0], problems


def test_a_page_wider_than_a_phone_is_reported(chromium: Any, broken_base: str) -> None:
    with context(chromium, broken_base, PHONE) as (ctx, watch):
        page = ctx.new_page()
        open_page(page, broken_base + "en/cicd/", watch)
        problems = sideways_problems(page)
    assert problems and "scrolls horizontally" in problems[0], problems


def test_a_code_block_without_a_proof_line_is_reported(chromium: Any, broken: Path, broken_base: str) -> None:
    with context(chromium, broken_base) as (ctx, _watch):
        count, problems = code_block_problems(ctx.new_page(), _page(broken, "en/kubernetes/"), broken_base)
    assert count > 0
    assert any("code block 1 has no proof line under it" in p for p in problems), problems
