"""The proof line under a code block says, in the page's language, what the run report says (issue 14).

Rendering from fixture reports: passed, failed, skipped with a reason, missing, no report at all, a
report of another commit; measured-figure placeholders; the publishing rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixture_report import report

from snipcheck.model import manifest
from snipcheck.model.paths import DOCS, SNIPPETS
from snipcheck.run.results import Results
from snipcheck.site import charts, measured, pagemarks, phrases, proof, publish

pytestmark = [pytest.mark.inventory]

SNIPPETS_ALL = manifest.load(SNIPPETS)
HEAD = "a" * 40
RUN = "docker/multi-stage/Dockerfile"
BAD = "docker/bad/Dockerfile"
REGISTRY = "docker/alpine/Dockerfile"


def results(doc: dict | None) -> Results:
    if doc is None:
        return Results(Path("build/report.json"))
    doc = dict(doc)
    return Results(Path("build/report.json"), True, doc, doc.pop("snippets"))


def line(path: str, doc: dict | None, lang: str, head: str = HEAD) -> str:
    return proof.render(
        [SNIPPETS_ALL[path]], proof.Context(results(doc), lang, head, "https://github.com/o/r"), "proof-x"
    )


def summary_text(html: str) -> str:
    """The visible summary line (code spans shown as their text)."""
    return visible(html.split('<span class="sc-text">', 1)[1].split("</span>", 1)[0])


def visible(html: str) -> str:
    return re.sub(r"</?code>", "", html)


def test_passed_run_shows_what_was_seen_in_both_languages() -> None:
    doc = report(SNIPPETS_ALL, HEAD)
    ru, en = line(RUN, doc, "ru"), line(RUN, doc, "en")
    assert "проверено" in ru and "sc-passed" in ru
    assert 'sc-badge">проверено: запущен<' in ru and 'sc-badge">verified: ran<' in en  # the level reached
    assert "собран: 33.3 МБ" in summary_text(ru)
    assert "uid 65534" in ru and "HTTP 200 через 0.44 с" in ru and "остановлен за 0.21 с (код 0)" in ru
    assert "verified" in en and "built: 33.3 MB" in summary_text(en)
    assert "HTTP 200 in 0.44 s" in en and "stopped in 0.21 s (exit 0)" in en
    # the check links to its test source at the report's commit
    assert f'href="https://github.com/o/r/blob/{HEAD}/tests/images/test_dockerfiles.py"' in en


def test_antipattern_says_it_fails_as_the_text_says() -> None:
    doc = report(SNIPPETS_ALL, HEAD)
    ru, en = line(BAD, doc, "ru"), line(BAD, doc, "en")
    assert "падает, как сказано в тексте: 1111.1 МБ против 22.2 МБ у multi-stage (×50)" in ru
    assert "fails as the text says: 1111.1 MB vs 22.2 MB multi-stage (×50)" in en
    assert "process uid 0" in en and "без .dockerignore в образе: .env, .git/config" in ru
    assert "❌" in ru and "anti-pattern" in en


def test_failed_check_is_shown_as_failed() -> None:
    doc = report(
        SNIPPETS_ALL,
        HEAD,
        change={(RUN, "image-run"): {"result": "failed", "error": "AssertionError: the process runs as root"}},
    )
    ru, en = line(RUN, doc, "ru"), line(RUN, doc, "en")
    assert "sc-failed" in ru and "ПРОВАЛЕНО" in ru and "провалено: image-run" in summary_text(ru)
    assert "FAILED" in en and "failed: image-run" in summary_text(en)
    assert "the process runs as root" in en
    assert 'sc-badge">verified' not in en  # never a green line over a failed check


def test_skipped_needs_registry_says_what_was_and_was_not_checked() -> None:
    reason = "alpine:3.23 needs a container registry (SNIPCHECK_IMAGES=local)"
    doc = report(
        SNIPPETS_ALL,
        HEAD,
        change={
            (REGISTRY, "image-build"): {"result": "skipped", "reason": reason},
            (REGISTRY, "image-run"): {"result": "skipped", "reason": reason},
        },
    )
    ru, en = line(REGISTRY, doc, "ru"), line(REGISTRY, doc, "en")
    images = "golang:1.26-alpine, alpine:3.23"
    assert f"not run here: image-build, image-run (needs a registry: {images})" in summary_text(en)
    assert "hadolint" in summary_text(en)  # what was checked here
    assert f"не запускалось здесь: image-build, image-run (нужен registry: {images})" in summary_text(ru)
    assert "partly verified" in en and "проверено частично" in ru
    assert "reason: alpine:3.23 needs a container registry" in en


def test_missing_result_is_not_a_pass() -> None:
    doc = report(SNIPPETS_ALL, HEAD, drop={RUN})
    ru, en = line(RUN, doc, "ru"), line(RUN, doc, "en")
    assert "no result: hadolint, image-build, image-run" in summary_text(en)
    assert "нет результата: hadolint, image-build, image-run" in summary_text(ru)
    assert "sc-missing" in en and 'sc-badge">verified' not in en


def test_without_a_report_lines_say_not_run_in_this_build() -> None:
    ru, en = line(RUN, None, "ru"), line(RUN, None, "en")
    assert "не запускалось в этой сборке" in ru
    assert "объявлены проверки: hadolint, image-build, image-run" in visible(ru)
    assert "not run in this build" in en and "declared checks: hadolint, image-build, image-run" in visible(en)


def test_report_of_another_commit_is_marked_stale() -> None:
    doc = report(SNIPPETS_ALL, "b" * 40)
    ru, en = line(RUN, doc, "ru"), line(RUN, doc, "en")
    assert "другой коммит" in ru and "НЕ текущий коммит" in ru
    assert "other commit" in en and "NOT the commit being built" in en


def test_no_repo_url_renders_no_link() -> None:
    html = proof.render(
        [SNIPPETS_ALL[RUN]], proof.Context(results(report(SNIPPETS_ALL, HEAD)), "en", HEAD, None), "proof-x"
    )
    assert "href=" not in html


def test_illustrative_snippet_gives_the_manifests_reason() -> None:
    path, snip = next((p, s) for p, s in sorted(SNIPPETS_ALL.items()) if not s.checks)
    en = line(path, report(SNIPPETS_ALL, HEAD), "en")
    shown = visible(en).replace("&#x27;", "'").replace("&quot;", '"')
    assert 'sc-badge">illustrative<' in en and "not run: " + snip.reason[:30] in shown
    assert "illustrative, not run" not in shown  # the badge says it once


def test_unknown_check_is_named_not_invented() -> None:
    snip = manifest.Snippet(
        path="k8s/x.yaml", kind="kubernetes", expect="works", checks=["kube-apiserver"], manifest=Path("m.yaml"), line=1
    )
    doc = {"snippets": {"k8s/x.yaml": [{"check": "kube-apiserver", "result": "passed", "seconds": 2.0}]}}
    html = proof.render([snip], proof.Context(results(doc), "en", HEAD, None), "proof-x")
    assert 'sc-badge">verified' in html and "kube-apiserver" in summary_text(html)


# ---- placeholders -----------------------------------------------------------------------------


def _page(tmp_path: Path, body: str) -> tuple[Path, str]:
    page = tmp_path / "docs" / "p.md"
    page.parent.mkdir()
    text = "---\ntitle: x\n---\n\n# Title\n\n" + body
    page.write_text(text, encoding="utf-8")
    return page, text.split("---\n", 2)[2].lstrip("\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'Size {{ measured "docker/nope/Dockerfile" image-run image_mb }}.',
            "unknown snippet 'docker/nope/Dockerfile'",
        ),
        (f'Size {{{{ measured "{RUN}" image-run size_in_furlongs }}}}.', "unknown figure 'size_in_furlongs'"),
        (f'Size {{{{ measured "{RUN}" compose-up image_mb }}}}.', "does not declare check 'compose-up'"),
        (f'Size {{{{ measured "{RUN}" image_mb }}}}.', "takes three arguments"),
    ],
)
def test_bad_measured_placeholder_names_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    page, markdown = _page(tmp_path, "Intro.\n\n" + body + "\n")
    offset = pagemarks.line_offset(page.read_text(encoding="utf-8"), markdown)
    [(_, ph)] = pagemarks.placeholders(markdown, page, offset)
    with pytest.raises(pagemarks.PageError) as err:
        measured.resolve(ph, SNIPPETS_ALL, results(report(SNIPPETS_ALL, HEAD)), lang="en", publish=False)
    assert str(err.value).startswith(f"{page}:9: ") and message in str(err.value)


def test_measured_placeholder_gives_the_same_value_in_both_languages(tmp_path: Path) -> None:
    page, markdown = _page(tmp_path, f'{{{{ measured "{BAD}" image-antipattern ratio }}}}\n')
    [(_, ph)] = pagemarks.placeholders(markdown, page, 0)
    res = results(report(SNIPPETS_ALL, HEAD))
    assert measured.resolve(ph, SNIPPETS_ALL, res, lang="ru", publish=True) == "×50"
    assert measured.resolve(ph, SNIPPETS_ALL, res, lang="en", publish=True) == "×50"
    assert "not measured" in measured.resolve(ph, SNIPPETS_ALL, results(None), lang="en", publish=False)
    with pytest.raises(pagemarks.PageError, match="cannot quote a figure that was not measured"):
        measured.resolve(ph, SNIPPETS_ALL, results(None), lang="en", publish=True)


def test_every_placeholder_in_the_docs_is_valid() -> None:
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for _, ph in pagemarks.placeholders(text, page, 0):
            if ph.name == "measured":
                measured.validate(ph, SNIPPETS_ALL)
            elif ph.name == "chart":
                assert ph.args[0] in charts.CHARTS, ph.where
            else:
                assert ph.name == "verification", f"{ph.where}: unknown placeholder {ph.name}"


def test_chart_uses_current_color_and_gives_numbers_in_text() -> None:
    svg = charts.render("stop-times", results(report(SNIPPETS_ALL, HEAD)), "ru")
    assert "currentColor" in svg and "#" not in svg.split("<svg", 1)[1].split(">", 1)[0]
    assert "shell-форма CMD: 5.31 с · exec-форма CMD: 0.21 с" in svg
    assert "появятся после прогона" in charts.render("stop-times", results(None), "ru")


# ---- blocks and the publishing rule -----------------------------------------------------------


def test_every_included_block_gets_exactly_one_marker() -> None:
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        markdown = text.split("---\n", 2)[2].lstrip("\n") if text.startswith("---\n") else text
        marked, blocks = pagemarks.mark_blocks(markdown, page, pagemarks.line_offset(text, markdown))
        fences = len(pagemarks.fence_groups(page))
        assert len(blocks) == fences and marked.count(pagemarks.TOKEN) == fences, page
        assert len({b.anchor for b in blocks}) == len(blocks), f"{page}: duplicate proof anchors"


def test_publishing_refuses_missing_results_and_another_commit() -> None:
    snippets = SNIPPETS_ALL
    assert publish.problems(DOCS, SNIPPETS, snippets, results(report(snippets, HEAD)), HEAD) == []
    missing = publish.problems(DOCS, SNIPPETS, snippets, results(report(snippets, HEAD, drop={RUN})), HEAD)
    assert len(missing) == 1 and f"snippets/{RUN} has no result for hadolint, image-build, image-run" in missing[0]
    assert missing[0].startswith("docs/docker")
    stale = publish.problems(DOCS, SNIPPETS, snippets, results(report(snippets, "b" * 40)), HEAD)
    assert any("the report is from commit bbbbbbbbbbbb, but this build is commit aaaaaaaaaaaa" in p for p in stale)
    none = publish.problems(DOCS, SNIPPETS, snippets, results(None), HEAD)
    assert "no run report" in none[0]


def test_publishing_refuses_skips_a_reader_must_not_see() -> None:
    """Review M8: a 'needs a registry' skip may be published from a run without a registry (the proof line
    says so); from a registry run (GitHub's) it means a pull failed, and a skip for any other reason
    means a check did not run: both stop the publishing build."""
    needs = {"result": "skipped", "reason": "alpine:3.23 needs a container registry (SNIPCHECK_IMAGES=local)"}
    doc = report(SNIPPETS_ALL, HEAD, change={(REGISTRY, "image-build"): needs})
    assert publish.problems(DOCS, SNIPPETS, SNIPPETS_ALL, results(doc), HEAD) == []
    in_registry_run = publish.problems(
        DOCS, SNIPPETS, SNIPPETS_ALL, results({**doc, "image_source_mode": "registry"}), HEAD
    )
    assert len(in_registry_run) == 1 and "`image-build` was skipped" in in_registry_run[0], in_registry_run
    assert "SNIPCHECK_IMAGES=registry" in in_registry_run[0]
    other = report(SNIPPETS_ALL, HEAD, change={(RUN, "image-run"): {"result": "skipped", "reason": "no engine"}})
    problems = publish.problems(DOCS, SNIPPETS, SNIPPETS_ALL, results(other), HEAD)
    assert len(problems) == 1 and f"snippets/{RUN}: `image-run` was skipped (no engine)" in problems[0], problems


# ---- python -m snipcheck explain ----------------------------------------------------------------


def test_explain_names_pages_manifest_tests_and_results() -> None:
    from snipcheck import explain

    line_no = next(
        i
        for i, text in enumerate((DOCS / "docker.md").read_text(encoding="utf-8").splitlines(), 1)
        if f'"{BAD}"' in text
    )
    out = explain.explain(f"docs/docker.md:{line_no}", results(report(SNIPPETS_ALL, HEAD)))
    assert out.startswith(f"snippets/{BAD}\n")
    assert f"ru: docs/docker.md:{line_no}" in out and "en: docs/docker.en.md:" in out
    assert "manifest entry: snippets/docker/manifest.yaml:" in out
    assert "implemented by tests/images/test_antipatterns.py::test_antipattern_fails_as_described" in out
    assert "single_stage_mb=1111.1 MB" in out
    with pytest.raises(explain.ExplainError, match="not a declared snippet"):
        explain.explain("docker/nope/Dockerfile", results(None))


# ---- the verification page ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_verification_table_lists_every_declared_snippet_with_its_result(lang: str) -> None:
    from snipcheck.site import verification

    doc = report(SNIPPETS_ALL, HEAD, change={(RUN, "image-run"): {"result": "failed"}})
    table = verification.snippets_table(DOCS, SNIPPETS_ALL, results(doc), lang)
    missing = [p for p in SNIPPETS_ALL if f"`{p}" not in table]
    assert not missing, f"not on the verification page: {missing}"
    failed_row = next(r for r in table.splitlines() if f"`{RUN}`" in r and "`image-run`" in r)
    assert ("ПРОВАЛЕНО" if lang == "ru" else "FAILED") in failed_row
    assert "#proof-docker-multi-stage-dockerfile)" in failed_row  # links to the block's proof line
    empty = verification.render("run", docs=DOCS, snippets=SNIPPETS_ALL, results=results(None), lang=lang, head=HEAD)
    assert "bash scripts/test.sh" in empty


def test_api_server_result_names_the_server_version_in_both_languages() -> None:
    snip = manifest.load()["kubernetes/deployment.yaml"]
    rec = [{"check": "kube-apiserver", "result": "passed", "kubernetes_version": "v1.35.4", "accepted": True}]
    assert phrases.phrase("kube-apiserver", rec, "en", snip) == (
        "accepted by kube-apiserver v1.35.4 (server-side dry run, strict fields)"
    )
    assert "принят kube-apiserver v1.35.4" in phrases.phrase("kube-apiserver", rec, "ru", snip)


def test_each_check_is_described_in_the_page_language() -> None:
    from snipcheck.model.checks import CHECKS

    doc = report(SNIPPETS_ALL, HEAD)
    ru, en = line(RUN, doc, "ru"), line(RUN, doc, "en")
    what = CHECKS["image-run"].what
    assert what["ru"] in ru and what["en"] not in ru
    assert what["en"] in en and what["ru"] not in en


@pytest.mark.parametrize(
    ("cache", "shown"),
    [({"dependencies_cached": True, "compile_rerun": True}, True), ({}, False)],
)
def test_layer_cache_result_is_named_only_when_measured(cache: dict, shown: bool) -> None:
    snip = manifest.load()["docker/caching/Dockerfile"]
    rec = [{"check": "image-build", "result": "passed", "image_mb": 22.3, "layer_cache_after_code_change": cache}]
    en, ru = phrases.phrase("image-build", rec, "en", snip), phrases.phrase("image-build", rec, "ru", snip)
    assert ("only the compile ran again" in en) is shown, en
    assert ("перекомпилирован только код" in ru) is shown, ru
