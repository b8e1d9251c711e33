"""The English edition keeps one house style (snipcheck.i18n.english_style): Oxford spelling, "80%", no
guillemets — on the pages, in the snippets' comments and (tier static) in the built pages with their proof
lines. Each rule is shown failing on a deliberately broken copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.i18n import english_style
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import DOCS, SNIPPETS


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.inventory
@pytest.mark.timeout(60)
def test_english_pages_keep_the_house_style() -> None:
    _fail_with(english_style.check_pages(DOCS))


@pytest.mark.inventory
@pytest.mark.timeout(60)
def test_snippet_comments_keep_the_house_style() -> None:
    _fail_with(english_style.check_comments(SNIPPETS))


BROKEN_PAGE = """---
title: x
---
# Startup

The pod's initialisation takes 80 % of the time «here».

```yaml
# initialise: inside a code block is code, not prose
```

Run `normalise --all` with the default behavior.
"""


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_the_page_rule_fails_on_a_broken_copy(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("# Запуск\n", encoding="utf-8")
    (tmp_path / "page.en.md").write_text(BROKEN_PAGE, encoding="utf-8")
    problems = english_style.check_pages(tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "'initialisation': write 'initialization' (Oxford spelling)",
        "'80 %': write a percentage without a space (80%)",
        "'«': English quotation marks (\"…\") on English pages",
        "'»': English quotation marks (\"…\") on English pages",
        "'behavior': write 'behaviour' (Oxford spelling)",
    ], problems
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in problems] == ["6", "6", "6", "6", "12"]


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_the_comment_rule_fails_on_a_broken_copy(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM scratch\n# Minimise the image\nLABEL x="organise"\n')
    declared = {"Dockerfile": Snippet("Dockerfile", "dockerfile", "pass", [], tmp_path / "manifest.yaml", 1)}
    assert english_style.check_comments(tmp_path, declared) == [
        "snippets/Dockerfile:2: 'Minimise': write 'Minimize' (Oxford spelling)"
    ]


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_words_that_are_ise_in_every_spelling_pass() -> None:
    ok = "Otherwise, advertise the precise promise; analyse the exercise; a 12.5% rise; 80% of them."
    assert english_style.problems_in(ok) == []
    assert english_style.problems_in("We analyzed 12.5 % of it") == [
        "'analyzed': write 'analysed' (Oxford spelling)",
        "'12.5 %': write a percentage without a space (12.5%)",
    ]


@pytest.mark.static
@pytest.mark.timeout(240)
def test_built_english_pages_keep_the_house_style(built_site: Path) -> None:
    _fail_with(english_style.check_built(built_site))


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_the_built_rule_fails_on_a_broken_proof_line(tmp_path: Path) -> None:
    page = tmp_path / "en" / "docker" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<html lang="en"><article><p>Fine.</p><div class="proof">CPU 80&nbsp;% after initialisation</div>'
        "<pre><code>normalise 5 %</code></pre></article></html>",
        encoding="utf-8",
    )
    assert english_style.check_built(tmp_path) == [
        "built en/docker/index.html: 'initialisation': write 'initialization' (Oxford spelling)",
        "built en/docker/index.html: '80 %': write a percentage without a space (80%)",
    ]
