"""gofmt and go vet on the Go snippets.

gofmt is run per file. go vet is run once per Go module (every directory of snippets/ holding a
go.mod, `go vet ./...`, cached for the session) and its findings are mapped back to the files:
a .go file fails when a finding names it or its package does not compile; a go.mod snippet
fails when anything in its module does. A .go file outside any module is a fragment: it is
vetted alone in a throwaway module (`go mod tidy` may fetch its imports from the module proxy).
GOTOOLCHAIN=local, so the host's Go (the pinned 1.26) is what proves them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from statictools import expected_failure, fail, ids, run, tool

from snipcheck.harness import goenv
from snipcheck.model import manifest
from snipcheck.model.manifest import Snippet
from snipcheck.model.paths import SNIPPETS as SNIPPET_ROOT

pytestmark = [pytest.mark.static, pytest.mark.timeout(300)]

GOFMT = manifest.by_check("gofmt")
GOVET = manifest.by_check("go-vet")
GO_ENV = goenv.toolchain_env(GOFLAGS=os.environ.get("SNIPCHECK_GOFLAGS", ""))
FINDING = re.compile(r"^(?:vet: )?(?:\./)?(?P<file>[^\s:][^:]*\.go):(?P<line>\d+)(?::\d+)?: (?P<msg>.*)$")


@dataclass
class Vet:
    module: Path
    returncode: int
    output: str
    seconds: float
    findings: dict[Path, list[str]] = field(default_factory=dict)

    def for_file(self, file: Path) -> list[str]:
        """Findings in the file itself, or in its package (it does not compile without them)."""
        file = file.resolve()
        own = self.findings.get(file, [])
        pkg = [f"{p.name}: {m}" for p, ms in self.findings.items() if p != file and p.parent == file.parent for m in ms]
        return own + pkg


def module_of(path: Path) -> Path | None:
    for d in [path.parent, *path.parent.parents]:
        if (d / "go.mod").is_file():
            return d
        if d == SNIPPET_ROOT:
            return None
    return None


def go_vet(module: Path, pattern: str = "./...") -> Vet:
    res = run([tool("go"), "vet", pattern], cwd=module, env=GO_ENV, timeout=280)
    vet = Vet(module, res.returncode, (res.stdout + res.stderr).strip(), res.seconds)
    for line in vet.output.splitlines():
        m = FINDING.match(line.strip())
        if m:
            f = Path(m["file"])
            f = (f if f.is_absolute() else module / f).resolve()
            vet.findings.setdefault(f, []).append(f"{m['line']}: {m['msg']}")
    return vet


class VetCache:
    """One `go vet ./...` per module, one throwaway module per fragment, for the whole session."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.results: dict[Path, Vet] = {}

    def module(self, module: Path) -> Vet:
        module = module.resolve()
        if module not in self.results:
            self.results[module] = go_vet(module)
        return self.results[module]

    def fragment(self, file: Path) -> Vet:
        key = file.resolve()
        if key not in self.results:
            mod = self.tmp / re.sub(r"[^\w.-]", "_", str(file.relative_to(SNIPPET_ROOT)))
            mod.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, mod / file.name)
            (mod / "go.mod").write_text("module fragment\n\ngo 1.26\n", encoding="utf-8")
            tidy = run([tool("go"), "mod", "tidy"], cwd=mod, env=GO_ENV, timeout=280)
            vet = go_vet(mod, ".")
            if tidy.returncode != 0:
                vet.returncode = tidy.returncode
                vet.output = f"go mod tidy:\n{tidy.stderr}\n{vet.output}"
            vet.findings = {key if p.name == file.name else p: m for p, m in vet.findings.items()}
            self.results[key] = vet
        return self.results[key]


@pytest.fixture(scope="session")
def vet_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VetCache]:
    yield VetCache(tmp_path_factory.mktemp("go-fragments"))


@pytest.mark.check("gofmt")
@pytest.mark.parametrize("snippet", GOFMT, ids=ids(GOFMT))
def test_gofmt(snippet: Snippet) -> None:
    if snippet.file.name == "go.mod":
        res = run([tool("go"), "mod", "edit", "-fmt", "-print"], cwd=snippet.file.parent, env=GO_ENV)
        if res.returncode != 0 or res.stdout != snippet.file.read_text(encoding="utf-8"):
            fail(f"{snippet.path}: not in `go mod edit -fmt` form:\n{res.describe()}")
        return
    res = run([tool("gofmt"), "-l", snippet.file.name], cwd=snippet.file.parent, timeout=60)
    if res.returncode != 0 or res.stdout.strip():
        diff = run([tool("gofmt"), "-d", snippet.file.name], cwd=snippet.file.parent, timeout=60)
        fail(f"{snippet.path}: gofmt -l lists it (not formatted or not parseable):\n{res.stderr}{diff.stdout[-3000:]}")


@pytest.mark.check("go-vet")
# one worker: its session's VetCache vets each module once; spread over workers, every worker vetted
# (and, on a cold Go cache, compiled) the same modules at the same time
@pytest.mark.xdist_group("go-vet")
@pytest.mark.parametrize("snippet", GOVET, ids=ids(GOVET))
def test_go_vet(snippet: Snippet, vet_cache: VetCache, measure: dict[str, Any]) -> None:
    if snippet.kind == "gomod" or snippet.file.suffix != ".go":  # go.mod, go.sum: the whole module
        vet = vet_cache.module(snippet.file.parent)
        problems = [vet.output] if vet.returncode != 0 else []
    else:
        module = module_of(snippet.file)
        vet = vet_cache.module(module) if module else vet_cache.fragment(snippet.file)
        measure["module"] = str(module.relative_to(SNIPPET_ROOT)) if module else "fragment"
        problems = vet.for_file(snippet.file)
        if vet.returncode != 0 and not problems and not vet.findings:
            problems = [vet.output]  # a module-wide failure (go.sum, toolchain) names no file
    measure["vet_seconds"] = round(vet.seconds, 2)
    wanted = expected_failure(snippet, "vet_error")
    if wanted:
        text = "\n".join(problems)
        measure["vet_findings"] = problems
        if str(wanted) not in text:
            fail(f"{snippet.path}: expected go vet to report `{wanted}`; it reported:\n{text or 'nothing'}")
        return
    if problems:
        fail(f"{snippet.path}: go vet ({vet.module}):\n" + "\n".join(problems)[-4000:])


# ---- the checks catch broken code ------------------------------------------------------------


def _module(tmp_path: Path, source: str) -> Path:
    (tmp_path / "go.mod").write_text("module broken\n\ngo 1.26\n", encoding="utf-8")
    (tmp_path / "main.go").write_text(source, encoding="utf-8")
    return tmp_path


def test_gofmt_lists_unformatted_code(tmp_path: Path) -> None:
    mod = _module(tmp_path, 'package main\nimport "fmt"\nfunc main() {\nfmt.Println( "hi" )\n}\n')
    res = run([tool("gofmt"), "-l", "main.go"], cwd=mod)
    assert res.stdout.strip() == "main.go", res.describe()


def test_go_vet_flags_a_printf_mismatch(tmp_path: Path) -> None:
    mod = _module(tmp_path, 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Printf("%d\\n", "x")\n}\n')
    vet = go_vet(mod)
    assert vet.returncode != 0, vet.output
    problems = vet.for_file(mod / "main.go")
    assert problems and "Printf" in problems[0], vet.output


def test_go_vet_maps_package_errors_to_sibling_files(tmp_path: Path) -> None:
    mod = _module(tmp_path, "package main\n\nfunc main() { helper() }\n")
    (mod / "helper.go").write_text("package main\n\nfunc helper() { undefinedThing() }\n", encoding="utf-8")
    vet = go_vet(mod)
    assert vet.returncode != 0
    assert vet.for_file(mod / "helper.go"), vet.output
    assert vet.for_file(mod / "main.go"), "a file whose package does not compile must fail too"
