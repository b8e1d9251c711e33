"""The built site carries the proof (issue 14): mkdocs with the proof hook, from fixture reports.

- with a complete report of this commit, a publishing build passes `--strict` and every page's
  code blocks carry a proof line, in the page's language;
- a publishing build refuses a report with a missing result, or one from another commit;
- a placeholder naming an unknown figure fails the build with the page's file:line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_report import report, write

from snipcheck.model import manifest
from snipcheck.model.paths import DOCS, ROOT, SNIPPETS
from snipcheck.run.results import head_commit
from snipcheck.site import pagemarks

pytestmark = [pytest.mark.static]


def build(
    out: Path, report_path: Path, *, publish: bool, config: Path = ROOT / "mkdocs.yml", strict: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SNIPCHECK_REPORT": str(report_path)}
    env.pop("SNIPCHECK_PUBLISH", None)
    if publish:
        env["SNIPCHECK_PUBLISH"] = "1"
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(out)]
    return subprocess.run(
        [*cmd, *(["--strict"] if strict else [])], cwd=ROOT, capture_output=True, text=True, timeout=240, env=env
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    head = head_commit()
    if head is None:
        pytest.skip("not a git checkout: the publishing build needs the commit being built")
    tmp = tmp_path_factory.mktemp("published")
    rep = write(tmp / "report.json", report(manifest.load(SNIPPETS), head))
    proc = build(tmp / "site", rep, publish=True)
    if proc.returncode != 0:
        pytest.fail(f"publishing build with a complete report failed:\n{proc.stderr[-4000:]}", pytrace=False)
    return tmp / "site"


def _built(site: Path, page: Path) -> Path:
    key = page.relative_to(DOCS).as_posix()
    en = key.endswith(".en.md")
    stem = key[: -len(".en.md")] if en else key[: -len(".md")]
    rel = "" if stem == "index" else (stem[: -len("/index")] if stem.endswith("/index") else stem) + "/"
    return site / ("en/" if en else "") / rel / "index.html"


@pytest.mark.timeout(300)
def test_every_code_block_carries_a_proof_line_in_its_language(published: Path) -> None:
    problems = []
    for page in sorted(DOCS.rglob("*.md")):
        anchors = [a for a, _ in pagemarks.anchors(page)]
        html = _built(published, page).read_text(encoding="utf-8")
        got = re.findall(r'<details class="snipcheck-proof sc-(\w+)" id="([^"]+)"', html)
        if [a for _, a in got] != anchors:
            problems.append(f"{page}: {len(got)} proof lines for {len(anchors)} code blocks")
        if any(state != "passed" and state != "illustrative" for state, _ in got):
            problems.append(f"{page}: a line is not green although every check passed: {got}")
        if re.search(r"SNIPCHECK(TOKEN|CHART)\d", html) or "{{ measured" in html:
            problems.append(f"{page}: an unresolved marker or placeholder reached the HTML")
        label = "How this example is verified" if page.name.endswith(".en.md") else "Проверка примера"
        if anchors and label not in html:
            problems.append(f"{page}: proof lines are not in the page's language")
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(300)
def test_measured_figures_and_charts_come_from_the_report(published: Path) -> None:
    ru = (published / "errata" / "index.html").read_text(encoding="utf-8")
    en = (published / "en" / "errata" / "index.html").read_text(encoding="utf-8")
    # fixture figures of docker/bad/Dockerfile's single-stage-size scenario, in each page's unit
    assert "1111.1 МБ" in ru and "22.2 МБ" in ru
    assert "1111.1 MB" in en and "22.2 MB" in en
    docker = (published / "en" / "docker" / "index.html").read_text(encoding="utf-8")
    assert '<svg class="sc-chart"' in docker and "Image size, MB" in docker
    verification = (published / "verification" / "index.html").read_text(encoding="utf-8")
    assert "go1.26.8" in verification and "docker/bad/Dockerfile" in verification


@pytest.mark.timeout(300)
def test_publishing_build_refuses_a_missing_result(tmp_path: Path) -> None:
    head = head_commit() or "0" * 40
    rep = write(tmp_path / "report.json", report(manifest.load(SNIPPETS), head, drop={"docker/multi-stage/Dockerfile"}))
    proc = build(tmp_path / "site", rep, publish=True)
    assert proc.returncode != 0
    assert "publishing build refused" in proc.stderr
    assert "snippets/docker/multi-stage/Dockerfile has no result for hadolint, image-build, image-run" in proc.stderr


@pytest.mark.timeout(300)
def test_publishing_build_refuses_a_report_of_another_commit(tmp_path: Path) -> None:
    rep = write(tmp_path / "report.json", report(manifest.load(SNIPPETS), "f" * 40))
    proc = build(tmp_path / "site", rep, publish=True)
    assert proc.returncode != 0
    assert "the report is from commit ffffffffffff, but this build is commit" in proc.stderr


@pytest.mark.timeout(300)
def test_unknown_figure_fails_the_build_with_file_and_line(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    page = docs / "docker.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    lines.insert(4, 'Размер: {{ measured "docker/multi-stage/Dockerfile" image-run weight_in_stone }}.')
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a project beside the real one: its own docs, everything else linked (the hooks find the
    # snippets and catalogs relative to the configuration, as in the repository)
    for name in ("snippets", "translations", "scripts"):
        (tmp_path / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    proc = build(tmp_path / "site", tmp_path / "no-report.json", publish=False, config=tmp_path / "mkdocs.yml")
    assert proc.returncode != 0
    assert f"{page}:5: unknown figure 'weight_in_stone'" in proc.stderr, proc.stderr[-2000:]


def test_errata_test_references_become_links_to_the_source() -> None:
    from snipcheck.site import errata_links

    row = "| a | b | c | `tests/cluster/test_controllers.py::test_the_hpa_owns_the_replica_count`; `compose-config` |"
    linked = errata_links.link_tests(row, "https://github.com/o/r", "abc123")
    assert (
        "[`tests/cluster/test_controllers.py::test_the_hpa_owns_the_replica_count`]"
        "(https://github.com/o/r/blob/abc123/tests/cluster/test_controllers.py)" in linked
    ), linked
    assert "`compose-config`" in linked and linked.count("](") == 1
    assert errata_links.link_tests(linked, "https://github.com/o/r", "abc123") == linked  # not linked twice
    assert errata_links.link_tests(row, None, "abc123") == row  # no repository: plain text
