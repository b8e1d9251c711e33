"""Bad input gets a clear error naming the file, never a traceback, and nothing is written outside the
tree it belongs to (review L4): manifests that are not a mapping or not UTF-8, entries and path settings
that leave snippets/, snippet files that are not UTF-8, includes of files outside snippets/, tool
output that is not UTF-8."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from snipcheck.harness import proc
from snipcheck.i18n import comments
from snipcheck.model import manifest
from snipcheck.rules import inventory

pytestmark = [pytest.mark.inventory, pytest.mark.timeout(30)]

GOOD = "files:\n  Dockerfile:\n    kind: dockerfile\n    checks: [hadolint]\n"


def _tree(tmp_path: Path, manifest_text: str | bytes) -> Path:
    root = tmp_path / "snippets"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "Dockerfile").write_text("FROM scratch\n")
    target = root / "demo" / manifest.MANIFEST_NAME
    (target.write_bytes if isinstance(manifest_text, bytes) else target.write_text)(manifest_text)
    return root


def test_a_good_manifest_loads(tmp_path: Path) -> None:
    assert list(manifest.load(_tree(tmp_path, GOOD))) == ["demo/Dockerfile"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "expected a top-level mapping `files:`"),
        (b"files:\n  Dockerfile: {kind: dockerfile}  # caf\xe9\n", "not UTF-8 \\(byte"),
        ("files:\n  ../../outside: {kind: dockerfile}\n", "must be a file name below"),
        ("files:\n  /etc/passwd: {kind: dockerfile}\n", "must be a file name below"),
        ("files:\n  42: {kind: dockerfile}\n", "must be a file name below"),
        (
            GOOD.replace("[hadolint]", "[image-build]") + "    build: {context: ../../etc}\n",
            "must stay below snippets/",
        ),
    ],
)
def test_a_bad_manifest_is_an_error_naming_its_file(tmp_path: Path, text: str | bytes, message: str) -> None:
    root = _tree(tmp_path, text)
    with pytest.raises(manifest.ManifestError, match=message) as err:
        manifest.load(root)
    assert str(root / "demo" / manifest.MANIFEST_NAME) in str(err.value)


def test_a_snippet_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    root = _tree(tmp_path, GOOD)
    (root / "demo" / "Dockerfile").write_bytes(b"# caf\xe9\nFROM scratch\n")
    with pytest.raises(manifest.ManifestError, match=r"demo/Dockerfile: not UTF-8 \(byte 5\)"):
        comments.render_all(root, manifest.load(root), {})


def test_the_rendered_tree_is_never_written_outside_its_directory(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    out.mkdir()
    with pytest.raises(manifest.ManifestError, match="outside the snippet tree"):
        comments.write_tree({"../escaped.txt": "x"}, out)
    assert not (tmp_path / "escaped.txt").exists()


def test_an_include_of_a_file_outside_snippets_is_reported(tmp_path: Path) -> None:
    root = _tree(tmp_path, GOOD)
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "README.md").write_text("not a snippet\n")
    (docs / "index.md").write_text('# Page\n\n```text\n--8<-- "../README.md"\n```\n')
    _, problems = inventory.check_pages(docs, root)
    assert any("outside snippets/" in p and "index.md:4" in p for p in problems), problems


def test_tool_output_that_is_not_utf8_does_not_hide_the_result() -> None:
    res = proc.run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'caf\\xe9'); sys.exit(3)"], timeout=30)
    assert res.returncode == 3 and res.stdout == "caf\ufffd"
