"""Every errata row carries its evidence (issue 30, item 4).

The last cell of each row of docs/errata.md and docs/errata.en.md ("Proven by") must either name a proof
that exists — a test (`tests/x.py::test_name`, `tests/x.py`, a bare `test_name` defined under tests/), a
check of the manifests (`compose-config`, `image-antipattern: secret-in-history`), a snippet or repository
file (`myapp/compose.yaml`, `original/blocks.yaml`) — or say how the fact was established: `source:` /
`источник:` (documentation, upstream source) or `repeat with:` / `повторить:` (a manual measurement a
reader can repeat). A reference that looks like a test or a file and does not exist is a finding: the
row would point a reader at nothing. The site turns test references into links to their source
(snipcheck.site.errata_links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..model.checks import CHECKS

ROW = re.compile(r"^\|(?P<cells>.*)\|\s*$")
ANCHOR = re.compile(r"\{ #([\w-]+) \}")
CODE = re.compile(r"`([^`]+)`")
TEST_REF = re.compile(r"^(tests/[\w/.-]+\.py)(?:::(\w+))?")
ESTABLISHED = re.compile(r"\b(source|repeat with|источник|повторить)\s*:", re.I)
FILE_LIKE = re.compile(r"^[\w.-]+(/[\w.*-]+)+(:[\w-]+)?$")


@dataclass(frozen=True)
class Row:
    page: Path
    line: int
    anchor: str
    proof: str


def rows(page: Path) -> list[Row]:
    out = []
    for n, text in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        m = ROW.match(text)
        anchor = ANCHOR.search(text)
        if not (m and anchor):
            continue
        cells = [c.strip() for c in m["cells"].split(" | ")]
        out.append(Row(page, n, anchor[1], cells[-1]))
    return out


def _defined(name: str, files: list[Path]) -> bool:
    pattern = re.compile(rf"^\s*def {re.escape(name)}\(", re.M)
    return any(pattern.search(f.read_text(encoding="utf-8")) for f in files)


def _top_dir(ref: str) -> str:
    return ref.split("/", 1)[0]


def _tops(root: Path) -> set[str]:
    """First path components that name our files: snippets/'s directories and the repository's."""
    return {d.name for base in (root / "snippets", root) if base.is_dir() for d in base.iterdir() if d.is_dir()}


def judge(row: Row, root: Path, test_files: list[Path]) -> tuple[list[str], list[str]]:
    """(resolved proofs, broken references) of one row's proof cell."""
    resolved: list[str] = []
    broken: list[str] = []
    for ref in CODE.findall(row.proof):
        ref = ref.strip()
        test = TEST_REF.match(ref)
        if test:
            path = root / test[1]
            if not path.is_file():
                broken.append(f"`{ref}`: no file {test[1]}")
            elif test[2] and not _defined(test[2], [path]):
                broken.append(f"`{ref}`: {test[1]} defines no {test[2]}")
            else:
                resolved.append(ref)
        elif re.fullmatch(r"test_\w+", ref):
            (resolved if _defined(ref, test_files) else broken).append(
                ref if _defined(ref, test_files) else f"`{ref}`: no test of that name under tests/"
            )
        elif ref.split(":", 1)[0].strip() in CHECKS:
            resolved.append(ref)
        elif FILE_LIKE.match(ref) and _top_dir(ref) in _tops(root):
            name = ref.split(":", 1)[0]
            if any((base / name).exists() or list(base.glob(name)) for base in (root / "snippets", root)):
                resolved.append(ref)
            else:
                broken.append(f"`{ref}`: no such file in snippets/ or the repository")
    return resolved, broken


def problems(root: Path) -> list[str]:
    test_files = sorted((root / "tests").rglob("*.py"))
    out = []
    for page in (root / "docs" / "errata.md", root / "docs" / "errata.en.md"):
        for row in rows(page):
            resolved, broken = judge(row, root, test_files)
            where = f"{page.relative_to(root)}:{row.line} #{row.anchor}"
            out += [f"{where}: {b}" for b in broken]
            if not resolved and not ESTABLISHED.search(row.proof):
                out.append(
                    f"{where}: the proof cell names no test, check or file and does not say how the fact was "
                    "established (`source: …` / `repeat with: …`; Russian `источник: …` / `повторить: …`)"
                )
    return out
