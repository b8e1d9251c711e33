"""The errata is complete: every code block and heading of the original is mapped to what replaced it,
every difference beyond comments and whitespace names its errata row, and the rules catch broken maps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from snipcheck.i18n.syntax import normalise
from snipcheck.model.paths import DOCS, ROOT, SNIPPETS
from snipcheck.rules import blockmap

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(60)]

ORIGINAL = ROOT / "original" / "chapter-4.7.ru.md"
BLOCK_MAP = ROOT / "original" / "blocks.yaml"
PINNED_SHA256 = "7546f660d8a3c865611b51a0299213f015364db9661336a8d1093adbc35f4f56"


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# ---- the real edition ------------------------------------------------------------------------


def test_original_is_pinned_and_has_131_blocks() -> None:
    assert blockmap.sha256(ORIGINAL) == PINNED_SHA256, (
        f"{ORIGINAL} was edited — it must stay byte-identical to upstream commit 2ee186e (see original/README.md)"
    )
    assert len(blockmap.original_blocks(ORIGINAL)) == 131


def test_every_block_mapped_and_every_change_listed(record_property: pytest.RecordProperty) -> None:
    result = blockmap.check(ORIGINAL, BLOCK_MAP, SNIPPETS, DOCS)
    record_property("blocks_by_status", result.counts)
    print("blocks by status:", result.counts)
    _fail_with(result.problems)
    assert sum(result.counts.values()) == 131


def test_every_block_maps_to_what_stands_in_its_place() -> None:
    _fail_with(blockmap.check_placement(ORIGINAL, BLOCK_MAP, DOCS))


def test_every_heading_on_a_page_or_listed(record_property: pytest.RecordProperty) -> None:
    problems, found, listed = blockmap.check_headings(ORIGINAL, BLOCK_MAP, DOCS)
    record_property("headings", {"on_pages": found, "replaced": listed})
    print(f"headings: {found} on pages, {listed} listed as replaced")
    _fail_with(problems)


# ---- the normaliser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("dockerfile", "# Комментарий\nFROM x AS y  # справа\nRUN a \\\n    && b", "FROM   x AS y\nRUN a && b  # note"),
        ("yaml", "a: 1  # один\nb: '#not-a-comment'", "a: 1\nb: '#not-a-comment'   # one"),
        ("go", '// doc\nx := "http://a" /* c */\ny := 1 // one', 'x := "http://a"\ny := 1'),
        ("sql", "SELECT 1; -- один", "SELECT 1;"),
    ],
)
def test_normaliser_ignores_comments_and_whitespace(kind: str, a: str, b: str) -> None:
    assert normalise(a, kind) == normalise(b, kind)


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("dockerfile", "USER appuser", "USER 10001"),
        ("yaml", "b: '#x'", "b: '#y'"),
        ("go", 'log.Print("запуск")', 'log.Print("starting")'),
    ],
)
def test_normaliser_keeps_code_and_strings(kind: str, a: str, b: str) -> None:
    assert normalise(a, kind) != normalise(b, kind)


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown code kind 'cobol'"):
        normalise("x", "cobol")


# ---- each rule catches a deliberately broken copy ---------------------------------------------


@pytest.fixture
def copy(tmp_path: Path) -> dict[str, Path]:
    """The original, the map, the errata pages and the snippets the tests break, in tmp_path."""
    tree = {
        "original": tmp_path / "original" / "chapter-4.7.ru.md",
        "map": tmp_path / "original" / "blocks.yaml",
        "docs": tmp_path / "docs",
        "snippets": tmp_path / "snippets",
    }
    tree["original"].parent.mkdir()
    shutil.copy(ORIGINAL, tree["original"])
    shutil.copy(BLOCK_MAP, tree["map"])
    tree["docs"].mkdir()
    for page in DOCS.rglob("*.md"):
        target = tree["docs"] / page.relative_to(DOCS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(page, target)
    shutil.copytree(SNIPPETS, tree["snippets"])
    return tree


def _check(tree: dict[str, Path]) -> list[str]:
    return blockmap.check(tree["original"], tree["map"], tree["snippets"], tree["docs"]).problems


def _edit_map(tree: dict[str, Path], old: str, new: str) -> None:
    text = tree["map"].read_text(encoding="utf-8")
    assert old in text, f"the negative test expects {old!r} in {BLOCK_MAP}"
    tree["map"].write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_copy_is_clean(copy: dict[str, Path]) -> None:
    assert _check(copy) == []


def test_changed_snippet_without_anchor_fails(copy: dict[str, Path]) -> None:
    # block 127 (example 3's Service) is `same`: change its snippet the way an unlisted edit would
    file = copy["snippets"] / "myapp" / "k8s" / "service.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("type: ClusterIP", "type: NodePort"), encoding="utf-8")
    problems = _check(copy)
    assert any("block 127 " in p and "differs from the original" in p and "no errata anchor" in p for p in problems), (
        problems
    )


def test_comment_only_edit_still_passes(copy: dict[str, Path]) -> None:
    file = copy["snippets"] / "myapp" / "k8s" / "service.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("type: ClusterIP", "type: ClusterIP  # any note"), encoding="utf-8")
    problems = _check(copy)
    assert any("block 127 " in p and "`comments`" in p for p in problems), problems  # status must be exact


def test_unmapped_block_fails(copy: dict[str, Path]) -> None:
    text = copy["map"].read_text(encoding="utf-8")
    copy["map"].write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("  42: ")) + "\n", encoding="utf-8"
    )
    assert any("block 42 " in p and "not mapped" in p for p in _check(copy))


def test_missing_snippet_or_section_fails(copy: dict[str, Path]) -> None:
    _edit_map(copy, "to: myapp/k8s/service.yaml,", "to: kubernetes/no-such.yaml,")
    _edit_map(copy, "to: kubernetes/pod.yaml:pod,", "to: kubernetes/pod.yaml:no-such-section,")
    problems = _check(copy)
    assert any("no-such.yaml does not exist" in p for p in problems), problems
    assert any("has no section 'no-such-section'" in p for p in problems), problems


def test_claimed_change_that_is_not_there_fails(copy: dict[str, Path]) -> None:
    _edit_map(
        copy,
        "to: myapp/k8s/service.yaml, status: same}",
        "to: myapp/k8s/service.yaml, status: changed, errata: [go-version]}",
    )
    assert any("block 127 " in p and "claims a change" in p for p in _check(copy))


def test_anchor_missing_on_one_language_fails(copy: dict[str, Path]) -> None:
    page = copy["docs"] / "errata.en.md"
    page.write_text(page.read_text(encoding="utf-8").replace("{ #go-version }", ""), encoding="utf-8")
    problems = _check(copy)
    assert any("#go-version is no row of docs/errata.en.md" in p for p in problems), problems
    assert not any("#go-version is no row of docs/errata.md" in p for p in problems)


def test_citing_a_section_heading_fails(copy: dict[str, Path]) -> None:
    # block 32 (UPX) cites its row #upx; `docker` is the id of the errata page's Docker section heading
    _edit_map(copy, "errata: [upx, debian-13]}", "errata: [docker, debian-13]}")
    problems = _check(copy)
    assert any("block 32 " in p and "#docker is no row of docs/errata.md" in p for p in problems), problems


def _placement(tree: dict[str, Path]) -> list[str]:
    return blockmap.check_placement(tree["original"], tree["map"], tree["docs"])


def test_the_copy_is_placed(copy: dict[str, Path]) -> None:
    assert _placement(copy) == []


def test_a_block_mapped_to_its_neighbour_fails(copy: dict[str, Path]) -> None:
    # block 8 ("Alpine использует musl") was once mapped to the added scratch demo just above its replacement
    _edit_map(copy, "to: docker/cgo/glibc-in-alpine/Dockerfile,", "to: docker/cgo/cgo-in-scratch/Dockerfile:demo,")
    problems = _placement(copy)
    assert any(
        "block 8 " in p and "after '**Alpine использует musl, не glibc:**'" in p and "glibc-in-alpine" in p
        for p in problems
    ), problems


def test_a_whole_file_where_the_page_shows_sections_fails(copy: dict[str, Path]) -> None:
    _edit_map(
        copy,
        "to: [myapp/internal/health/health.go:live, myapp/internal/health/health.go:ready, "
        "myapp/internal/health/health.go:check],",
        "to: myapp/internal/health/health.go,",
    )
    problems = _placement(copy)
    assert any("block 77 " in p and "includes exactly myapp/internal/health/health.go " in p for p in problems), (
        problems
    )


def test_headings_of_the_errata_page_do_not_count(copy: dict[str, Path]) -> None:
    # "Практические примеры" is a heading of errata.md only; on the chapter it is the navigation group
    _edit_map(copy, "    Практические примеры: examples-heading\n", "")
    problems, _, _ = blockmap.check_headings(copy["original"], copy["map"], copy["docs"])
    assert any("heading 'Практические примеры' is on no Russian page" in p for p in problems), problems


def test_edited_original_fails(copy: dict[str, Path]) -> None:
    with copy["original"].open("a", encoding="utf-8") as f:
        f.write("\n")
    assert any("must never be edited" in p for p in _check(copy))


def test_heading_missing_from_pages_fails(copy: dict[str, Path]) -> None:
    page = copy["docs"] / "docker.md"
    text = page.read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith("## "))
    page.write_text(text.replace(heading, "## Renamed"), encoding="utf-8")
    problems, _, _ = blockmap.check_headings(copy["original"], copy["map"], copy["docs"])
    title = blockmap.ATTR_ID.sub("", heading[3:]).strip()
    assert any(f"heading {title!r} is on no Russian page" in p for p in problems), problems
