"""The original's Russian code comments are on the Russian pages word for word, or listed with the fix that
changed them (snipcheck.rules.original_comments); the rule is shown failing on broken copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from snipcheck.model.paths import DOCS, ROOT
from snipcheck.rules import original_comments

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(120)]

ORIGINAL = ROOT / "original" / "chapter-4.7.ru.md"
BLOCK_MAP = ROOT / "original" / "blocks.yaml"
LISTED = ROOT / "original" / "comments.yaml"


def test_every_original_comment_is_restored_or_listed(record_property: pytest.RecordProperty) -> None:
    result = original_comments.check(ORIGINAL, BLOCK_MAP, LISTED, DOCS)
    record_property("original_comments", {"lines": result.lines, "restored": result.restored, "listed": result.listed})
    print(
        f"original Russian comment lines: {result.lines}, restored word for word: {result.restored}, "
        f"listed: {result.listed}"
    )
    if result.problems:
        pytest.fail("\n".join(result.problems), pytrace=False)


# ---- the rule on a small edition of its own -------------------------------------------------------

ORIGINAL_TEXT = """# Глава

## Сборка

**Сборка:**

```dockerfile
# Этап сборки
FROM golang:1.26 AS builder
# Скачиваем зависимости
RUN go mod download
```
"""

MAP_TEXT = """blocks:
  1: {line: 7, lang: 'dockerfile', to: app/Dockerfile, status: comments}
"""

PAGE = """# Сборка

**Сборка:**

```dockerfile
--8<-- "app/Dockerfile"
```

Зависимости скачиваются отдельным шагом.
"""

ERRATA = "| Было | Стало |\n| --- | --- |\n| x { #deps } | y |\n"


def _edition(tmp_path: Path, listed: str = "") -> dict[str, Path]:
    files = {
        "original": tmp_path / "original.md",
        "map": tmp_path / "blocks.yaml",
        "listed": tmp_path / "comments.yaml",
        "docs": tmp_path / "docs",
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    files["original"].write_text(ORIGINAL_TEXT, encoding="utf-8")
    files["map"].write_text(MAP_TEXT, encoding="utf-8")
    files["listed"].write_text(listed, encoding="utf-8")
    files["docs"].mkdir()
    (files["docs"] / "build.md").write_text(PAGE, encoding="utf-8")
    for name in ("errata.md", "errata.en.md"):
        (files["docs"] / name).write_text(ERRATA, encoding="utf-8")
    return files


def _check(files: dict[str, Path], shown: str) -> original_comments.Result:
    return original_comments.check(
        files["original"],
        files["map"],
        files["listed"],
        files["docs"],
        render=lambda target: shown,
        kinds={"app/Dockerfile": "dockerfile"},
    )


RESTORED = "# Этап сборки\nFROM golang:1.26 AS builder\n# Скачиваем зависимости\nRUN go mod download\n"
REWORDED = "# Этап сборки\nFROM golang:1.26 AS builder\n# Загрузка модулей\nRUN go mod download\n"


def test_restored_comments_pass(tmp_path: Path) -> None:
    result = _check(_edition(tmp_path), RESTORED)
    assert (result.problems, result.lines, result.restored) == ([], 2, 2)


def test_a_reworded_comment_fails(tmp_path: Path) -> None:
    result = _check(_edition(tmp_path), REWORDED)
    assert len(result.problems) == 1 and "'Скачиваем зависимости' is not on the Russian page" in result.problems[0]
    assert "block 1 (original line 7)" in result.problems[0]


def test_a_listed_fix_passes_and_a_listing_must_be_true(tmp_path: Path) -> None:
    listed = 'blocks:\n  1:\n    "Скачиваем зависимости": deps\n'
    assert _check(_edition(tmp_path / "a", listed), REWORDED).problems == []
    wrong = 'blocks:\n  1:\n    "Скачиваем зависимости": no-such-row\n'
    problems = _check(_edition(tmp_path / "b", wrong), REWORDED).problems
    assert len(problems) == 1 and "#no-such-row, which is no row anchor" in problems[0], problems
    prose = 'blocks:\n  1:\n    "Скачиваем зависимости": prose\n'
    problems = _check(_edition(tmp_path / "c", prose), REWORDED).problems
    assert len(problems) == 1 and "listed as moved into the prose, but no chapter page says it" in problems[0]


def test_a_stale_listing_fails(tmp_path: Path) -> None:
    listed = 'blocks:\n  1:\n    "Скачиваем зависимости": deps\n'
    problems = _check(_edition(tmp_path, listed), RESTORED).problems
    assert len(problems) == 1 and "is listed, but no such Russian comment" in problems[0], problems
