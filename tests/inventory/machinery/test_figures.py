"""snipcheck.model.figures.number writes a report's values into pages: numbers as numbers, and text from a
report reduced to characters that are neither Markdown nor HTML (a crafted report cannot inject markup
into a page or a chart: review L6)."""

from __future__ import annotations

import pytest

from snipcheck.model import figures

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(30)]


@pytest.mark.parametrize(
    ("value", "text"),
    [(1092.6, "1092.6"), (0.150, "0.15"), (3.0, "3"), (12, "12"), (True, "yes"), (["miss", "hit"], "miss, hit")],
)
def test_numbers_and_plain_text_are_written_as_they_are(value: object, text: str) -> None:
    assert figures.number(value) == text


@pytest.mark.parametrize(
    "crafted",
    ['<img src=x onerror="alert(1)">', "[click](https://example.invalid)", "**bold** `code` <!--", "a_b|c"],
)
def test_markup_from_a_report_does_not_reach_a_page(crafted: str) -> None:
    written = figures.with_unit("image_mb", crafted)
    assert not set(written) & set("<>\"'[]*`|!_"), written
