"""Every sentence of the original's prose is on the Russian chapter pages as the author wrote it, or listed with
the fix that changed it (snipcheck.rules.original_prose); the rule is shown failing on broken copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.model.paths import DOCS, ROOT
from snipcheck.rules import original_prose

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(120)]

ORIGINAL = ROOT / "original" / "chapter-4.7.ru.md"
LISTED = ROOT / "original" / "prose.yaml"


def test_every_original_sentence_is_on_a_page_or_listed(record_property: pytest.RecordProperty) -> None:
    result = original_prose.check(ORIGINAL, LISTED, DOCS)
    record_property(
        "original_prose", {"sentences": result.sentences, "verbatim": result.verbatim, "listed": result.listed}
    )
    print(
        f"original sentences: {result.sentences}, on the pages as written: {result.verbatim}, listed: {result.listed}"
    )
    if result.problems:
        pytest.fail("\n".join(result.problems), pytrace=False)


ORIGINAL_TEXT = """# Глава

## Содержание

- [Сборка](#сборка)

## Сборка

Go собирается в один бинарник. Финальный образ весит ~850 MB.

> 💡 **Для C# разработчиков**: В .NET нужен runtime.

- Минимальный размер
"""

PAGE = """# Сборка { #build }

Go собирается в **один** бинарник. Финальный образ весит ~850 MB.

!!! tip "Для C# разработчиков"

    В .NET нужен `runtime`.

- Минимальный размер
"""

ERRATA = "| Было | Стало |\n| --- | --- |\n| x { #original-estimates } | y |\n"


def _edition(tmp: Path, page: str, listed: str = "") -> tuple[Path, Path, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    original, listed_file, docs = tmp / "chapter.md", tmp / "prose.yaml", tmp / "docs"
    original.write_text(ORIGINAL_TEXT, encoding="utf-8")
    listed_file.write_text(listed, encoding="utf-8")
    docs.mkdir()
    (docs / "build.md").write_text(page, encoding="utf-8")
    for name in ("errata.md", "errata.en.md"):
        (docs / name).write_text(ERRATA, encoding="utf-8")
    return original, listed_file, docs


def test_the_authors_sentences_pass_with_other_markup(tmp_path: Path) -> None:
    result = original_prose.check(*_edition(tmp_path, PAGE))
    assert (result.problems, result.sentences, result.verbatim) == ([], 5, 5)


def test_a_reworded_sentence_fails_and_a_listed_fix_passes(tmp_path: Path) -> None:
    page = PAGE.replace("весит ~850 MB.", "весит около 850 MB (оценка оригинала).")
    problems = original_prose.check(*_edition(tmp_path / "a", page)).problems
    assert len(problems) == 1 and "chapter.md:9: 'Финальный образ весит ~850 MB.'" in problems[0], problems
    listed = 'sentences:\n  "Финальный образ весит ~850 MB.": original-estimates\n'
    assert original_prose.check(*_edition(tmp_path / "b", page, listed)).problems == []
    wrong = 'sentences:\n  "Финальный образ весит ~850 MB.": no-such-row\n'
    problems = original_prose.check(*_edition(tmp_path / "c", page, wrong)).problems
    assert len(problems) == 1 and "#no-such-row, which is no row anchor" in problems[0], problems


def test_a_dropped_list_item_and_a_stale_listing_fail(tmp_path: Path) -> None:
    page = PAGE.replace("- Минимальный размер\n", "")
    problems = original_prose.check(*_edition(tmp_path / "a", page)).problems
    assert len(problems) == 1 and "'Минимальный размер' is on no Russian chapter page" in problems[0], problems
    listed = 'sentences:\n  "Go собирается в один бинарник.": original-estimates\n'
    problems = original_prose.check(*_edition(tmp_path / "b", PAGE, listed)).problems
    assert len(problems) == 1 and "is listed, but the page has it as written" in problems[0], problems
