"""Proof lines and the verification page speak the page's language (snipcheck.i18n.proof_texts): every
manifest claim, reason and note has Russian text, every measured figure a name in both languages, and the
built Russian pages show no English words in their proof lines outside code and names. Each rule is shown
failing on a broken copy.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from snipcheck.i18n import proof_texts
from snipcheck.model import manifest
from snipcheck.model.figures import FIGURES
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import ROOT

TESTS = ROOT / "tests"
# keys the tests record: measure[<key>] = …, measure.setdefault(<key>, …), measure.update(<key>=…, …)
RECORDED = re.compile(r"""measure\[["'](?P<a>[\w/]+)["']\]|measure\.setdefault\(["'](?P<b>\w+)["']""")
# keys with a platform or stage in their name (f-strings): named by their prefix
PREFIXED = ("elf_machine", "traces")


def _update_arguments(text: str) -> list[str]:
    """The argument text of every `measure.update(...)` call, parentheses balanced."""
    found = []
    start = text.find("measure.update(")
    while start != -1:
        i, depth = start + len("measure.update("), 1
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        found.append(text[start + len("measure.update(") : i - 1])
        start = text.find("measure.update(", i)
    return found


def recorded_keys() -> set[str]:
    keys: set[str] = set(FIGURES)
    for file in TESTS.rglob("*.py"):
        if file.name == Path(__file__).name:
            continue
        text = file.read_text(encoding="utf-8")
        keys |= {m["a"] or m["b"] for m in RECORDED.finditer(text)}
        for args in _update_arguments(text):
            keys |= set(re.findall(r"(?:^|[,(\s])([a-z][a-z0-9_]*)=(?!=)", args))
    keys = {k for k in keys if not any(k.startswith(p + "_") for p in PREFIXED)}
    return keys | set(PREFIXED)


def _fail_with(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.mark.inventory
@pytest.mark.timeout(60)
def test_every_manifest_text_has_russian_text() -> None:
    _fail_with(proof_texts.check_texts(manifest.load()))


@pytest.mark.inventory
@pytest.mark.timeout(60)
def test_every_recorded_figure_has_a_name_in_both_languages() -> None:
    keys = recorded_keys()
    assert {"image_mb", "seconds_to_http_200", "leaked_files", "elf_machine"} <= keys, sorted(keys)
    _fail_with(proof_texts.check_labels(keys))


def _snippet(tmp: Path, claim: str) -> dict[str, Snippet]:
    return {"x/Dockerfile": Snippet("x/Dockerfile", "dockerfile", "fails", [], tmp / "manifest.yaml", 3, claim=claim)}


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_a_claim_without_russian_text_and_a_stale_entry_fail(tmp_path: Path) -> None:
    catalog = tmp_path / "manifest.ru.yaml"
    catalog.write_text('texts:\n  "an old claim": "старое утверждение"\n', encoding="utf-8")
    problems = proof_texts.check_texts(_snippet(tmp_path, "the image   runs as root"), catalog)
    assert len(problems) == 2, problems
    assert "'the image runs as root'… has no Russian text" in problems[0]
    assert "'an old claim'… matches no claim" in problems[1]
    catalog.write_text('texts:\n  "the image runs as root": "образ работает от root"\n', encoding="utf-8")
    assert proof_texts.check_texts(_snippet(tmp_path, "the image runs as root"), catalog) == []


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_a_figure_without_a_name_fails(tmp_path: Path) -> None:
    labels = tmp_path / "figures.yaml"
    labels.write_text('figures:\n  image_mb: {ru: "размер образа", en: "image size"}\n  uid: {en: "uid"}\n')
    problems = proof_texts.check_labels({"image_mb", "uid", "new_key"}, labels)
    assert [p.split("'")[1] for p in problems] == ["new_key", "uid"], problems


# ---- the built Russian pages ---------------------------------------------------------------------

# Words a Russian page writes in Latin letters (names, terms of the chapter's Russian): one list, kept with
# the translations.
NAMES = frozenset(
    line.strip()
    for line in (ROOT / "translations" / "latin-words.ru.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
LATIN = re.compile(r"[A-Za-z][A-Za-z-]*")


def english_words(fragment: str) -> list[str]:
    """Latin-script words of an HTML fragment outside <code>, links' targets and names."""
    text = re.sub(r"<code\b.*?</code>", " ", fragment, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return [w for w in LATIN.findall(text) if w.lower().strip("-") not in NAMES]


def russian_proof_problems(site: Path) -> list[str]:
    problems = []
    for page in sorted(site.rglob("index.html")):
        if page.relative_to(site).parts[:1] == ("en",):
            continue
        body = page.read_text(encoding="utf-8")
        blocks = re.findall(r'<details class="snipcheck-proof.*?</details>', body, re.S)
        if page.parent.name == "verification":  # its tables; the headings are the chapter's page titles
            article = re.search(r"<article[^>]*>(.*?)</article>", body, re.S)
            blocks.append(re.sub(r"<h([1-6])\b.*?</h\1>", " ", article[1] if article else "", flags=re.S))
        for block in blocks:
            words = english_words(block)
            if words:
                where = page.relative_to(site).as_posix()
                problems.append(f"{where}: English words in a proof line: {sorted(set(words))[:12]}")
    return problems


@pytest.mark.inventory
@pytest.mark.timeout(30)
def test_english_on_a_russian_proof_line_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "docker" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<details class="snipcheck-proof sc-passed"><summary>проверено: собран <code>image-build</code>'
        "</summary><ul><li>почему не запускается: sample output only</li></ul></details>",
        encoding="utf-8",
    )
    assert russian_proof_problems(tmp_path) == [
        "docker/index.html: English words in a proof line: ['only', 'output', 'sample']"
    ]


@pytest.mark.static
@pytest.mark.timeout(240)
def test_russian_proof_lines_are_russian(built_site: Path) -> None:
    _fail_with(russian_proof_problems(built_site))
