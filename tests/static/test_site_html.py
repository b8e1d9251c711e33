"""The built site (`mkdocs build --strict` with the publishing settings, as pages.yml builds it), read as HTML:
internal links and anchors resolve in both languages, no placeholder host, no Russian interface text on
English pages, upstream links marked as Russian, one search index per language.

Every check also runs on a deliberately broken copy of the built site and must report it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snipcheck.site import html_checks as sitehtml
from snipcheck.site.build import built_pages

pytestmark = [pytest.mark.static, pytest.mark.timeout(240)]


@pytest.fixture
def broken(built_site: Path, tmp_path: Path) -> Path:
    """A private copy of the built site for a test to break."""
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy)
    return copy


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} problem(s):\n" + "\n".join(problems), pytrace=False)


def test_both_languages_are_built(built_site: Path) -> None:
    pages = built_pages(built_site)
    ru, en = [p for p in pages if p.lang == "ru"], [p for p in pages if p.lang == "en"]
    assert ru and len(ru) == len(en), f"{len(ru)} Russian and {len(en)} English pages"
    assert {p.url for p in ru} == {p.url[len("en/") :] for p in en}


def test_internal_links_and_anchors_resolve(built_site: Path) -> None:
    _fail_with(sitehtml.internal_link_problems(built_site))


def test_a_broken_link_and_a_broken_anchor_are_reported(broken: Path) -> None:
    page = broken / "en" / "docker" / "index.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(
        html.replace(
            "</article>", '<a href="../no-such-page/">x</a><a href="../compose/#no-such-anchor">y</a></article>', 1
        ),
        encoding="utf-8",
    )
    problems = "\n".join(sitehtml.internal_link_problems(broken))
    assert "no-such-page" in problems and "'no-such-anchor'" in problems, problems


def test_no_placeholder_host(built_site: Path) -> None:
    _fail_with(sitehtml.placeholder_host_problems(built_site))


def test_a_placeholder_host_is_reported(broken: Path) -> None:
    (broken / "sitemap.xml").write_text("<loc>https://example.github.io/x/</loc>", encoding="utf-8")
    assert sitehtml.placeholder_host_problems(broken), "a placeholder site_url went unnoticed"


def test_publishing_settings_reach_the_pages(built_site: Path) -> None:
    html = (built_site / "en" / "docker" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://snipcheck-ci.github.io/go-containerization/en/docker/">' in html
    assert 'href="https://github.com/snipcheck-ci/go-containerization"' in html, "no repository link"
    assert "https://github.com/snipcheck-ci/go-containerization/edit/main/docs/docker.en.md" in html, (
        "the English page's edit link does not open its .en.md"
    )


def test_english_pages_show_no_russian_interface_text(built_site: Path) -> None:
    _fail_with(sitehtml.russian_on_english_pages(built_site))


def test_a_russian_footer_on_an_english_page_is_reported(broken: Path, built_site: Path) -> None:
    ru_footer = _copyright(built_site / "index.html")
    en_page = broken / "en" / "compose" / "index.html"
    en_footer = _copyright(en_page)
    assert en_footer and ru_footer and en_footer != ru_footer
    en_page.write_text(en_page.read_text(encoding="utf-8").replace(en_footer, ru_footer), encoding="utf-8")
    problems = sitehtml.russian_on_english_pages(broken)
    assert len(problems) == 1 and problems[0].startswith("/en/compose/:"), problems


def _copyright(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    start = html.index('<div class="md-copyright__highlight">') + len('<div class="md-copyright__highlight">')
    return html[start : html.index("</div>", start)].strip()


def test_links_to_the_russian_only_course_say_so(built_site: Path) -> None:
    _fail_with(sitehtml.upstream_link_problems(built_site))


def test_an_unmarked_link_to_the_course_is_reported(broken: Path) -> None:
    page = broken / "en" / "errata" / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("(in Russian", "(", 1), encoding="utf-8")
    problems = sitehtml.upstream_link_problems(broken)
    assert len(problems) == 1 and problems[0].startswith("/en/errata/:"), problems


def test_each_language_has_its_own_search_index(built_site: Path) -> None:
    _fail_with(sitehtml.search_index_problems(built_site))


def test_an_english_entry_in_the_russian_index_is_reported(broken: Path) -> None:
    ru_index = broken / "search" / "search_index.json"
    data = json.loads(ru_index.read_text(encoding="utf-8"))
    data["docs"].append({"location": "en/docker/", "title": "Docker for Go", "text": "leaked"})
    ru_index.write_text(json.dumps(data), encoding="utf-8")
    problems = sitehtml.search_index_problems(broken)
    assert len(problems) == 1 and "'en/docker/'" in problems[0], problems
